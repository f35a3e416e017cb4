import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServerTracing, runInContext, ServerTracing, type ServerTracingOptions } from '@tracewire/node';

export type { ServerTracingOptions as TracingOptions } from '@tracewire/node';

type Next = (error?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type ErrorMiddleware = (error: unknown, req: IncomingMessage, res: ServerResponse, next: Next) => void;

type RouteLike = { path?: unknown };

const kRoute = Symbol('tracewire.express.route');
const kParams = Symbol('tracewire.express.params');
const kNames = Symbol('tracewire.express.paramNames');

type ExpressRequest = IncomingMessage & {
  baseUrl?: string;
  route?: RouteLike;
  params?: Record<string, string>;
  [kRoute]?: RouteLike;
  [kParams]?: Record<string, string>;
  /** Param value -> name, for every layer matched so far: mount paths are rebuilt from it. */
  [kNames]?: Record<string, string>;
};

// Express 4 and 5 (router 2) both assign `req.route` just before a route's handlers run, while `req.baseUrl` is
// still the enclosing router's mount path; by the time the response finishes, a router that passed on (next(err))
// has already restored `baseUrl`. Accessors on this one request read the template at that moment, without
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
    // Route#dispatch assigns the same route again once the route's own params are in.
    if (route == null || route === previous) return;
    ServerTracing.current(this)?.setRoute(routeTemplate(this, route));
  },
};

// `baseUrl` holds the matched text of mount paths (`/orgs/7/teams/3`), not their patterns. Each matched mount
// layer assigns its params (`{ teamId: '3' }`) just before it narrows `baseUrl`, so their values map back to names.
const paramsProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: ExpressRequest) {
    return this[kParams];
  },
  set(this: ExpressRequest, params: Record<string, string> | undefined) {
    this[kParams] = params;
    if (params == null) return;
    for (const key in params) {
      const value = params[key];
      if (typeof value !== 'string' || value.length === 0) continue;
      if (this[kNames] === undefined) this[kNames] = Object.create(null) as Record<string, string>;
      this[kNames][value] ??= key;
    }
  },
};

const ACCESSORS: PropertyDescriptorMap = { route: routeProperty, params: paramsProperty };

function routeTemplate(req: ExpressRequest, route: RouteLike): string {
  const path = route.path;
  const template =
    typeof path === 'string' ? path : Array.isArray(path) ? path.map(String).join(',') : String(path);
  const base = mountTemplate(req.baseUrl ?? '', req[kNames]);
  if (base === '' || base === '/') return template;
  return template === '/' ? base : base + template;
}

function mountTemplate(baseUrl: string, names: Record<string, string> | undefined): string {
  if (names === undefined || baseUrl.length === 0) return baseUrl;
  const segments = baseUrl.split('/');
  for (let i = 1; i < segments.length; i++) {
    const name = names[safeDecode(segments[i]!)];
    if (name !== undefined) segments[i] = `:${name}`;
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
      const r = req as ExpressRequest;
      const { route, params } = r;
      // One call: each accessor added to a request object this large turns it into a dictionary again.
      Object.defineProperties(r, ACCESSORS);
      r[kRoute] = route;
      r[kParams] = params;
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
