import { openRequestContext, runInContext } from '@tracewire/node';

// Koa sends the response after the middleware chain has settled, from a `.then` that `app.handleRequest` attaches
// outside it: `respond()` piping `ctx.body` (a stream produced as it is read), `res` 'finish' listeners and Koa's own
// `onerror` run in the context `handleRequest` was called in, which has no span. `handleRequest` (looked up on the
// app for every request) is shadowed on the app, once, to run in a request context that the tracing middleware's
// `start` fills in a moment later in the same call: everything Koa then does for the request sees its span and
// baggage, and the middleware enters no context of its own.

type HandleRequest = (this: unknown, ctx: unknown, fnMiddleware: unknown) => unknown;
const shadowed = new WeakSet<object>();

function callHandleRequest(
  original: HandleRequest,
  app: unknown,
  ctx: unknown,
  fnMiddleware: unknown,
): unknown {
  return original.call(app, ctx, fnMiddleware);
}

/** Makes the app handle each request, its response included, in a context the request's trace fills in. */
export function respondInRequestContext(app: unknown): void {
  if (typeof app !== 'object' || app === null || shadowed.has(app)) return;
  shadowed.add(app);
  const original = (app as { handleRequest?: unknown }).handleRequest;
  if (typeof original !== 'function') return;
  Object.defineProperty(app, 'handleRequest', {
    configurable: true,
    enumerable: false,
    writable: true,
    value: function handleRequest(this: unknown, ctx: unknown, fnMiddleware: unknown): unknown {
      return runInContext(
        openRequestContext(),
        callHandleRequest,
        original as HandleRequest,
        this,
        ctx,
        fnMiddleware,
      );
    },
  });
}
