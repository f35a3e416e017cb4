import { warnRoutesBeforeTracing } from '@tracewire/node';
import { appStack, isTracingLayer } from './router-stack.js';

type RouteLayer = { route?: { path?: unknown; methods?: Record<string, unknown> }; handle?: unknown };

const checked = new WeakSet<object>();

/** `checkRegistrationOrder`, the first time a request of `app` is traced. */
export function checkRegistrationOrderOnce(app: unknown, middleware: unknown): void {
  if (app === null || (typeof app !== 'object' && typeof app !== 'function') || checked.has(app)) return;
  checked.add(app);
  checkRegistrationOrder(app, middleware);
}

/**
 * Warns when the app's own router has routes ahead of `middleware`: Express answers with the first match, so
 * those requests never reach it. Only the app's top level is read; placed in a router, the middleware sees
 * what that router's mount let through, on purpose.
 */
export function checkRegistrationOrder(app: unknown, middleware: unknown): void {
  const stack = appStack(app) as RouteLayer[] | undefined;
  if (stack === undefined) return;
  const at = stack.findIndex((layer) => isTracingLayer(layer, middleware));
  if (at <= 0) return;
  const routes: string[] = [];
  for (const layer of stack.slice(0, at)) {
    const route = layer.route;
    if (route === undefined) continue;
    const methods = Object.keys(route.methods ?? {}).filter((m) => m !== '_all');
    const verb = methods.length === 0 ? 'ALL' : methods.map((m) => m.toUpperCase()).join('|');
    routes.push(`${verb} ${String(route.path)}`);
  }
  warnRoutesBeforeTracing(routes, 'app.use(tracing())');
}
