/** How many of the routes are named in the warning; the count says how many there are. */
const NAMED = 3;

/**
 * A framework answers a request with the first route that matches, so routes added before the tracing middleware
 * answer without it: their requests are never traced, and nothing else says so. Adapters that can see the order
 * (Express's router stack, Koa's middleware list) call this once, on the first request through the middleware.
 * A Node process warning, so `--no-warnings` and `process.on('warning')` deal with it as with Node's own.
 */
export function warnRoutesBeforeTracing(routes: readonly string[], registration: string): void {
  if (routes.length === 0) return;
  const named = routes.slice(0, NAMED).join(', ');
  const more = routes.length > NAMED ? ` and ${routes.length - NAMED} more` : '';
  const noun = routes.length === 1 ? 'route' : 'routes';
  try {
    process.emitWarning(
      `${registration} comes after ${routes.length} ${noun} (${named}${more}); requests answered there are not ` +
        `traced. Add it before your routes; its ignore option leaves paths untraced on purpose.`,
      { type: 'TracewireWarning', code: 'TRACEWIRE_ROUTES_BEFORE_TRACING' },
    );
  } catch {
    // A throwing 'warning' listener must not fail the request that found the order.
  }
}
