/** A router layer as @koa/router and koa-router keep them in `ctx.matched`. */
interface Layer {
  path?: unknown;
  methods?: unknown;
}

/**
 * Whether `route` is only the path of `router.use()` layers among those the router matched. Both routers write
 * every layer they run to `_matchedRoute`, middleware included, whose path is a pattern of their own (`(?:\/|$)`,
 * `([^/]*)`, `/api(?:\/|$)`): an auth guard answering 401 there, or a middleware after a route that awaits `next()`,
 * would otherwise name the span after it. A path that a route also has (`router.use('/users/:id', …)` beside
 * `router.get('/users/:id', …)`) is that route's.
 */
export function isMiddlewareLayerPath(ctx: { matched?: unknown }, route: unknown): boolean {
  const matched = ctx.matched;
  if (!Array.isArray(matched)) return false;
  let middleware = false;
  for (const layer of matched as (Layer | null | undefined)[]) {
    if (layer == null || layer.path !== route) continue;
    if (Array.isArray(layer.methods) && layer.methods.length > 0) return false;
    middleware = true;
  }
  return middleware;
}

/**
 * The path of the last route layer for the request's method among those the router matched (`ctx.matched` holds
 * every layer whose path matched, whatever its methods); undefined without one. The routers list HEAD with GET.
 */
export function lastRouteLayerPath(ctx: { matched?: unknown; method?: unknown }): string | undefined {
  const matched = ctx.matched;
  const method = ctx.method;
  if (!Array.isArray(matched) || typeof method !== 'string') return undefined;
  for (let i = matched.length - 1; i >= 0; i--) {
    const layer = matched[i] as Layer | null | undefined;
    if (layer == null || typeof layer.path !== 'string' || !Array.isArray(layer.methods)) continue;
    if (layer.methods.includes(method)) return layer.path;
  }
  return undefined;
}
