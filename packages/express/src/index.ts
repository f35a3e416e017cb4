import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServerTracing, runInContext, ServerTracing, type ServerTracingOptions } from '@tracewire/node';

export type { ServerTracingOptions as TracingOptions } from '@tracewire/node';

type Next = (error?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type ErrorMiddleware = (error: unknown, req: IncomingMessage, res: ServerResponse, next: Next) => void;

interface RouteLike {
  path?: unknown;
}

const kRoute = Symbol('tracewire.express.route');

type ExpressRequest = IncomingMessage & {
  baseUrl?: string;
  params?: Record<string, string>;
  route?: RouteLike;
  [kRoute]?: RouteLike;
};

// Express 4 and 5 (router 2) both assign `req.route` just before a route's handlers run, while `req.baseUrl` is
// still the enclosing router's mount path; by the time the response finishes, a router that passed on (next(err))
// has already restored `baseUrl`. An accessor on this one request reads the template at that moment, without
// patching Express.
const routeProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: ExpressRequest) {
    return this[kRoute];
  },
  set(this: ExpressRequest, route: RouteLike | undefined) {
    const previous = this[kRoute];
    this[kRoute] = route;
    // Route#dispatch assigns the same route again after req.params became the route's own params.
    if (route == null || route === previous) return;
    ServerTracing.current(this)?.setRoute(routeTemplate(this, route));
  },
};

function routeTemplate(req: ExpressRequest, route: RouteLike): string {
  const path = route.path;
  const template =
    typeof path === 'string' ? path : Array.isArray(path) ? path.map(String).join(',') : String(path);
  const base = mountTemplate(req.baseUrl ?? '', req.params);
  if (base === '' || base === '/') return template;
  return template === '/' ? base : base + template;
}

// `baseUrl` holds the matched text of the mount path (`/users/42`), not its pattern (`/users/:userId`). While the
// route is being assigned, req.params are still the mount's own params, so their values map back to names.
function mountTemplate(baseUrl: string, params: Record<string, string> | undefined): string {
  if (params === undefined || baseUrl.length === 0) return baseUrl;
  const keys = Object.keys(params);
  if (keys.length === 0) return baseUrl;
  const segments = baseUrl.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = safeDecode(segments[i]!);
    for (const key of keys) {
      if (params[key] === segment) {
        segments[i] = `:${key}`;
        break;
      }
    }
  }
  return segments.join('/');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `app.use(tracing())` before your routes: one SERVER span per request, active for every handler. */
export function tracing(options?: ServerTracingOptions): Middleware {
  const server = createServerTracing(options);
  return function tracewireExpress(req, res, next) {
    const trace = server.start(req, res);
    if (trace === undefined) return next();
    if (trace.span.isRecording()) {
      const existing = (req as ExpressRequest).route;
      Object.defineProperty(req, 'route', routeProperty);
      (req as ExpressRequest)[kRoute] = existing;
    }
    runInContext(trace.context, next);
  };
}

/**
 * Optional: `app.use(tracing.errorHandler())` after your routes (before your own error handlers) adds the
 * `exception` event (type, message, stack) for errors thrown or passed to `next(err)`. Without it, 5xx responses
 * still mark the span as an error. Passes the error on untouched.
 */
tracing.errorHandler = function errorHandler(): ErrorMiddleware {
  return function tracewireExpressErrors(error, req, _res, next) {
    ServerTracing.current(req)?.recordError(error);
    next(error);
  };
};
