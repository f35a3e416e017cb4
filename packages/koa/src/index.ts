import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createServerTracing,
  getActiveContext,
  runInContext,
  ServerTracing,
  type ServerTracingOptions,
} from '@tracewire/node';
import { extendAppContextOnce } from './app-context.js';
import { recordEmittedErrors, watchBodyErrors } from './body-errors.js';
import { isMiddlewareLayerPath } from './middleware-layer.js';
import {
  innermostMountPath,
  matchedRouteOf,
  mountedTemplate,
  nameSpanOnMatch,
  watchMountedRoutes,
} from './mount-prefix.js';
import { checkRegistrationOrder } from './registration-order.js';
import { respondInRequestContext } from './respond-context.js';

export type { ServerTracingOptions as TracingOptions } from '@tracewire/node';

/** The part of Koa's context this middleware reads; structural, so Koa 2 and 3 types both fit. */
export interface TracedContext {
  req: IncomingMessage;
  res: ServerResponse;
  /**
   * Set by `@koa/router` (and koa-router) to the matched layer's full path, router prefixes included; koa-mount
   * prefixes are added (mount-prefix.ts).
   */
  _matchedRoute?: unknown;
  routerPath?: unknown;
  status?: number;
  /** The router's layers that matched the path, `router.use()` middleware included. */
  matched?: unknown;
}

type Middleware = (ctx: TracedContext, next: () => Promise<unknown>) => Promise<unknown>;

function routeOf(ctx: TracedContext): string | undefined {
  const route = mountedTemplate(ctx) ?? matchedRouteOf(ctx) ?? routerPathOf(ctx) ?? answeringMountOf(ctx);
  if (route === undefined || route === null) return undefined;
  return typeof route === 'string' ? route : String(route);
}

/**
 * With no route, the koa-mount a request went into names it (`mount('/graphql', apollo)`), unless nothing answered
 * there: Koa's own 404 for a request no middleware took, named by its method alone as everywhere.
 */
function answeringMountOf(ctx: TracedContext): string | undefined {
  return ctx.status === 404 ? undefined : innermostMountPath(ctx);
}

/** `routerPath`, which the routers set for every layer they run, unless a `router.use()` layer set it last. */
function routerPathOf(ctx: TracedContext): unknown {
  const path = ctx.routerPath;
  return isMiddlewareLayerPath(ctx, path) ? undefined : path;
}

// A rejection handler attached inside the request's context runs in it, so one function serves every request.
function recordAndRethrow(error: unknown): never {
  ServerTracing.active()?.recordError(error);
  throw error;
}

function nextRecordingErrors(next: () => Promise<unknown>): Promise<unknown> {
  const rest = next();
  // koa-compose always returns a promise; anything else is passed through rather than broken.
  return typeof rest?.then === 'function' ? rest.then(undefined, recordAndRethrow) : rest;
}

function extendAppContext(prototype: object, ctx: TracedContext): void {
  watchMountedRoutes(prototype);
  watchBodyErrors(prototype);
  recordEmittedErrors((ctx as { app?: unknown }).app);
}

/**
 * `app.use(tracing())` first: one SERVER span per request, active for every later middleware. Errors thrown
 * through it are recorded on the span and re-thrown untouched, so Koa's own error handling is unchanged.
 */
export function tracing(options?: ServerTracingOptions): Middleware {
  const server = createServerTracing(options);
  let orderChecked = false;
  // Not an async function: the promise of the rest of the chain is returned as is, one promise fewer per request.
  return function tracewireKoa(ctx, next) {
    if (!orderChecked) {
      orderChecked = true;
      const app = (ctx as { app?: unknown }).app;
      checkRegistrationOrder(app, tracewireKoa);
      respondInRequestContext(app);
    }
    // Inside the context the app's shadowed handleRequest entered (respond-context.ts), the trace fills that in.
    const trace = server.start(ctx.req, ctx.res, undefined, getActiveContext());
    if (trace === undefined) return next();
    // The router sets the template while dispatching; read it when the span ends (also on a client abort).
    if (trace.span.isRecording()) {
      extendAppContextOnce(ctx, extendAppContext);
      nameSpanOnMatch(ctx, trace);
    }
    trace.readRouteFrom(ctx, routeOf);
    return runInContext(trace.context, nextRecordingErrors, next);
  };
}

/** The same as `tracing`, for `import tracing from '@tracewire/koa'`, as the ecosystem's middleware and plugins are imported. */
export default tracing;
