// koa-mount strips its prefix from `ctx.path` before the mounted app's router runs, so `_matchedRoute` lacks it
// (`/users/:id` under `mount('/api', users)`), and it never restores `ctx.mountPath`, which only ever holds the
// innermost prefix. What was stripped is known only while the router matches: the path the client sent minus
// `ctx.path`. A `_matchedRoute` accessor on the app's context prototype (app-context.ts) catches that moment, and
// keeps the writes of `router.use()` layers from replacing the span's route (middleware-layer.ts). The app reads
// back exactly what the routers wrote.

import type { RequestTrace } from '@tracewire/node';
import { isMiddlewareLayerPath, lastRouteLayerPath } from './middleware-layer.js';

/** The part of Koa's context read here. */
interface MountedContext {
  method?: unknown;
  originalUrl?: unknown;
  path?: unknown;
  mountPath?: unknown;
  matched?: unknown;
}

const kMatchedRoute = Symbol('tracewire.koa.matchedRoute');
const kSpanRoute = Symbol('tracewire.koa.spanRoute');
const kTemplate = Symbol('tracewire.koa.template');
const kMountPath = Symbol('tracewire.koa.mountPath');
const kMountTemplate = Symbol('tracewire.koa.mountTemplate');
const kTrace = Symbol('tracewire.koa.trace');

type Watched = MountedContext & {
  [kMatchedRoute]?: unknown;
  [kSpanRoute]?: unknown;
  [kTemplate]?: string | undefined;
  [kMountPath]?: unknown;
  [kMountTemplate]?: string;
  [kTrace]?: RequestTrace;
};

const matchedRouteProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: Watched) {
    return this[kMatchedRoute];
  },
  set(this: Watched, written: unknown) {
    this[kMatchedRoute] = written;
    let route = written;
    if (isMiddlewareLayerPath(this, written)) {
      // A middleware layer's path keeps the route matched before it. koa-router 7 writes once, the last layer's
      // path, an `allowedMethods()` after a nested router's routes: the route is the last route layer matched.
      if (this[kSpanRoute] !== undefined) return;
      route = lastRouteLayerPath(this);
      if (route === undefined) return;
    }
    this[kSpanRoute] = route;
    // Written only when there is a prefix: most apps mount nothing, and their contexts keep one property fewer.
    if (this[kTemplate] !== undefined) this[kTemplate] = undefined;
    if (typeof route !== 'string') return;
    try {
      const prefix = mountPrefix(this);
      if (prefix !== '') this[kTemplate] = joinPrefix(prefix, route);
    } catch {
      // A getter of an unusual context threw: the route is kept without its prefix.
    }
    // Named now, as Express and Fastify spans are once routed: the handlers already see `GET /users/:id` on the
    // live span. The name is read again when the span ends (a later router may match deeper).
    this[kTrace]?.setRoute(this[kTemplate] ?? route);
  },
};

/** The route the routers matched, as the span is named by it: the last route layer's, never a middleware's. */
export function matchedRouteOf(ctx: object & { _matchedRoute?: unknown; matched?: unknown }): unknown {
  const route = (ctx as Watched)[kSpanRoute];
  if (route !== undefined) return route;
  // Someone else's `_matchedRoute` accessor on the prototype: what it holds, unless a middleware layer wrote it.
  const written = ctx._matchedRoute;
  return isMiddlewareLayerPath(ctx, written) ? undefined : written;
}

/**
 * Lets the `_matchedRoute` accessor name `trace`'s span as the routers match. Kept on the context, one inline-cached
 * load there, where finding the trace through the request cost a megamorphic lookup per match.
 */
export function nameSpanOnMatch(ctx: object, trace: RequestTrace): void {
  (ctx as Watched)[kTrace] = trace;
}

// koa-mount assigns `ctx.mountPath` just before it cuts its prefix off `ctx.path`: what outer mounts cut already is
// the path the client sent minus `ctx.path` at that moment. Kept for a request the mounted middleware answers
// without a router (Apollo's or graphql-http's Koa handler, a tRPC handler), which is then named by the mount.
const mountPathProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Watched) {
    return this[kMountPath];
  },
  set(this: Watched, prefix: unknown) {
    this[kMountPath] = prefix;
    if (typeof prefix !== 'string') return;
    try {
      this[kMountTemplate] = joinPrefix(cutFromSentPath(this), prefix);
    } catch {
      // A getter of an unusual context threw: the request is named without the mount.
    }
  },
};

/**
 * Makes the routers' `_matchedRoute` assignments, and koa-mount's `mountPath` ones, on an app's contexts (its
 * context prototype) record the prefixes.
 */
export function watchMountedRoutes(prototype: object): void {
  // Someone else's accessor or value there is left alone; routes then come without mount prefixes.
  if (Object.getOwnPropertyDescriptor(prototype, '_matchedRoute') === undefined) {
    Object.defineProperty(prototype, '_matchedRoute', matchedRouteProperty);
  }
  if (Object.getOwnPropertyDescriptor(prototype, 'mountPath') === undefined) {
    Object.defineProperty(prototype, 'mountPath', mountPathProperty);
  }
}

/** The full path of the innermost koa-mount the request went into (`/api/graphql`); undefined without one. */
export function innermostMountPath(ctx: object): string | undefined {
  return (ctx as Watched)[kMountTemplate];
}

/** The matched route with the mount prefixes in front, when koa-mount stripped any; otherwise undefined. */
export function mountedTemplate(ctx: object): string | undefined {
  return (ctx as Watched)[kTemplate];
}

/**
 * What was cut from the front of the path the client sent to leave `ctx.path`; '' when nothing was, or when
 * `ctx.path` is no rest of it (rewritten).
 */
function cutFromSentPath(ctx: MountedContext): string {
  const original = ctx.originalUrl;
  const path = ctx.path;
  if (typeof original !== 'string' || typeof path !== 'string') return '';
  const query = original.indexOf('?');
  const sent = query === -1 ? original : original.slice(0, query);
  if (sent === path || sent.charCodeAt(0) !== 47 /* / */) return '';
  if (path === '/' && !sent.endsWith('/')) return sent;
  return sent.endsWith(path) ? sent.slice(0, sent.length - path.length) : '';
}

/**
 * What was cut, when koa-mount did the cutting: the innermost mount's prefix (`ctx.mountPath`) must end it. Any
 * other rewrite of `ctx.path` adds nothing, so a value rewritten out of the path never reaches the route.
 */
function mountPrefix(ctx: MountedContext): string {
  const mountPath = ctx.mountPath;
  if (typeof mountPath !== 'string') return '';
  const prefix = cutFromSentPath(ctx);
  const innermost = withoutTrailingSlash(mountPath);
  return prefix !== '' && innermost !== '' && withoutTrailingSlash(prefix).endsWith(innermost) ? prefix : '';
}

function joinPrefix(prefix: string, route: string): string {
  const base = withoutTrailingSlash(prefix);
  if (route === '' || route === '/') return base === '' ? '/' : base;
  return route.charCodeAt(0) === 47 /* / */ ? base + route : `${base}/${route}`;
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
