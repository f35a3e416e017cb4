import { warnRoutesBeforeTracing } from '@tracewire/node';

/** What `@koa/router` (and koa-router) put on the middleware `router.routes()` returns. */
type RouterDispatch = { router?: { stack?: { methods?: unknown; path?: unknown }[] } };

/**
 * Warns when a router's middleware runs ahead of `middleware` in the app: the router answers the requests it
 * matches without calling on, so those are never traced.
 */
export function checkRegistrationOrder(app: unknown, middleware: unknown): void {
  const list = (app as { middleware?: unknown } | undefined)?.middleware;
  if (!Array.isArray(list)) return;
  const at = list.indexOf(middleware);
  if (at <= 0) return;
  const routes: string[] = [];
  for (const earlier of list.slice(0, at) as RouterDispatch[]) {
    for (const layer of earlier?.router?.stack ?? []) {
      const methods = Array.isArray(layer.methods) ? layer.methods.filter((m) => m !== 'HEAD') : [];
      // Layers without methods are the router's own `use()` middleware, not routes.
      if (methods.length > 0) routes.push(`${methods.join('|')} ${String(layer.path)}`);
    }
  }
  warnRoutesBeforeTracing(routes, 'app.use(tracing())');
}
