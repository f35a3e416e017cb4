import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createServerTracing,
  type RequestTrace,
  runInContext,
  ServerTracing,
  type ServerTracingOptions,
} from '@tracewire/node';
import { enclosingMountParams } from './enclosing-mounts.js';
import { checkRegistrationOrderOnce } from './registration-order.js';
import {
  addMountParams,
  isRouteWatched,
  mountRouteOf,
  REQUEST_SHAPES_SHARED,
  watchRoute,
} from './route-watch.js';
import { watchUnreachedMiddleware } from './unreached-watch.js';

export type { ServerTracingOptions as TracingOptions } from '@tracewire/node';

type Next = (error?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type ErrorMiddleware = (error: unknown, req: IncomingMessage, res: ServerResponse, next: Next) => void;

/**
 * Watches for the route template (and checks, once per app, that no routes come before the middleware). Kept out
 * of the middleware: written inline there, it made Express `/users/:id` on
 * Node 20 cost 2–13 µs more per request in four A/Bs (bench/, medians of 12–16 rounds); out here, the same as
 * without it (likely V8's inlining of the middleware's calls; not checked further).
 */
function watchRouteOf(
  req: IncomingMessage,
  alreadyWatched: boolean,
  middleware: Middleware,
  trace?: RequestTrace,
): void {
  // A trace this middleware started (not an outer framework's, which reads its own routes).
  trace?.readRouteFrom(req, mountRouteOf);
  const app = (req as { app?: unknown }).app;
  checkRegistrationOrderOnce(app, middleware);
  // Placed in a router or sub-app (not the app's top level): the mounts above it have matched already.
  const baseUrl = (req as { baseUrl?: unknown }).baseUrl;
  const mountParams =
    typeof baseUrl === 'string' && baseUrl.length > 0
      ? enclosingMountParams(app, baseUrl, middleware)
      : undefined;
  if (!alreadyWatched) watchRoute(req, REQUEST_SHAPES_SHARED, mountParams);
  else if (mountParams !== undefined) addMountParams(req, mountParams);
}

/**
 * For a request traced already: by an outer Express app, whose middleware watches the route itself, or by a
 * framework in front of this app that cannot see Express's routes (Fastify through @fastify/express). Then this
 * app's route names the span, when it answers.
 */
function watchRouteForOuterTrace(req: IncomingMessage, middleware: Middleware): void {
  const outer = ServerTracing.current(req);
  if (outer === undefined || !outer.span.isRecording() || isRouteWatched(req)) return;
  watchRouteOf(req, false, middleware);
}

/** `app.use(tracing())` before your routes: one SERVER span per request, active for every handler. */
export function tracing(options?: ServerTracingOptions): Middleware {
  const server = createServerTracing(options);
  const middleware: Middleware = function tracewireExpress(req, res, next) {
    // V8 < 13: the request is about to become a dictionary anyway (route-watch.ts). Before the trace is stored on
    // it, so that store is a dictionary insert rather than a copy of the request's own hidden class; and before
    // anything else of it is read.
    const dictionaryFirst = !REQUEST_SHAPES_SHARED && ServerTracing.current(req) === undefined;
    if (dictionaryFirst) watchRoute(req, false);
    const trace = server.start(req, res);
    if (trace === undefined) {
      watchRouteForOuterTrace(req, tracewireExpress);
      return next();
    }
    if (trace.span.isRecording()) watchRouteOf(req, dictionaryFirst, tracewireExpress, trace);
    runInContext(trace.context, next);
  };
  watchUnreachedMiddleware(middleware);
  return middleware;
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

/** The same as `tracing`, for `import tracing from '@tracewire/express'`, as the ecosystem's middleware and plugins are imported. */
export default tracing;
