import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServerTracing, runInContext, ServerTracing, type ServerTracingOptions } from '@tracewire/node';
import { mountsWithParameters } from './mount-parameters.js';

export type { ServerTracingOptions as TracingOptions } from '@tracewire/node';

type Next = (error?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type ErrorMiddleware = (error: unknown, req: IncomingMessage, res: ServerResponse, next: Next) => void;

type RouteLike = { path?: unknown };
type Params = Record<string, unknown>;

const kRoute = Symbol('tracewire.express.route');
const kParams = Symbol('tracewire.express.params');
const kParamsSeen = Symbol('tracewire.express.paramsSeen');

type ExpressRequest = IncomingMessage & {
  app?: unknown;
  baseUrl?: string;
  route?: RouteLike;
  params?: Params;
  [kRoute]?: RouteLike;
  [kParams]?: Params;
  /** Every `params` object assigned so far, oldest first: mount paths are rebuilt from them. */
  [kParamsSeen]?: Params[];
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
// Only kept here; read when a route under a mount is matched.
const paramsProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: ExpressRequest) {
    return this[kParams];
  },
  set(this: ExpressRequest, params: Params | undefined) {
    if (params === this[kParams]) return;
    this[kParams] = params;
    if (params == null) return;
    const seen = this[kParamsSeen];
    if (seen === undefined) this[kParamsSeen] = [params];
    else seen.push(params);
  },
};

const ROUTE_AND_PARAMS: PropertyDescriptorMap = { route: routeProperty, params: paramsProperty };

function routeTemplate(req: ExpressRequest, route: RouteLike): string {
  const path = route.path;
  const template =
    typeof path === 'string' ? path : Array.isArray(path) ? path.map(String).join(',') : String(path);
  const base = mountTemplate(req.baseUrl ?? '', req[kParamsSeen]);
  if (base === '' || base === '/') return template;
  return template === '/' ? base : base + template;
}

function mountTemplate(baseUrl: string, seen: Params[] | undefined): string {
  if (seen === undefined || baseUrl.length === 0) return baseUrl;
  const names = parameterNames(seen);
  const segments = baseUrl.split('/');
  for (let i = 1; i < segments.length; i++) {
    const name = names.get(safeDecode(segments[i]!));
    if (name !== undefined) segments[i] = `:${name}`;
  }
  return segments.join('/');
}

/** Param value -> the name it was first matched under. */
function parameterNames(seen: Params[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const params of seen) {
    for (const key in params) {
      const value = params[key];
      if (typeof value === 'string' && value.length > 0 && !names.has(value)) names.set(value, key);
    }
  }
  return names;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * `route` is new on the request, so its accessor keeps the object in fast mode; `params` is already set by the
 * time any middleware runs, and redefining it makes the request a dictionary. Watched only when the app mounts
 * something under a path with parameters.
 */
function watchRoute(req: ExpressRequest): void {
  const { route, params } = req;
  if (mountsWithParameters(req.app)) {
    Object.defineProperties(req, ROUTE_AND_PARAMS);
    req[kParams] = params;
    if (params != null) req[kParamsSeen] = [params];
  } else {
    Object.defineProperty(req, 'route', routeProperty);
  }
  req[kRoute] = route;
}

/** `app.use(tracing())` before your routes: one SERVER span per request, active for every handler. */
export function tracing(options?: ServerTracingOptions): Middleware {
  const server = createServerTracing(options);
  return function tracewireExpress(req, res, next) {
    const trace = server.start(req, res);
    if (trace === undefined) return next();
    if (trace.span.isRecording()) watchRoute(req as ExpressRequest);
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
