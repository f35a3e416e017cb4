import { getActiveContext, runInContext, type Span, type TraceContext } from '@tracewire/node';

// Koa sends the response after the middleware chain has settled, from a `.then` that `app.handleRequest` attaches
// outside it: `respond()` piping `ctx.body` (a stream produced as it is read), `res` 'finish' listeners and Koa's own
// `onerror` run in the context `handleRequest` was called in, which has no span. `handleRequest` (looked up on the
// app for every request) is shadowed on the app, once, to run in a context of its own that the tracing middleware
// fills in when it starts the request's trace, a moment later in the same call: everything Koa then does for the
// request sees its span and baggage.

/** Filled in by the tracing middleware; holds what the request's context holds except the trace itself. */
class ResponseContext implements TraceContext {
  span: Span | undefined = undefined;
  baggage: TraceContext['baggage'] = undefined;
  suppressed = false;
  recordsNothing: boolean | undefined = undefined;
  callerTraceId: string | undefined = undefined;

  /** Copies what code running in the request's context sees; not its trace, which keeps the request alive. */
  adopt(context: TraceContext): void {
    this.span = context.span;
    this.baggage = context.baggage;
    this.suppressed = context.suppressed;
    this.recordsNothing = context.recordsNothing;
    this.callerTraceId = context.callerTraceId;
  }
}

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

/** Makes the app send its responses in a context the request's trace fills in; once per app. */
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
        new ResponseContext(),
        callHandleRequest,
        original as HandleRequest,
        this,
        ctx,
        fnMiddleware,
      );
    },
  });
}

/** Gives the response's context (when the app's `handleRequest` made one) what the request's trace holds. */
export function fillResponseContext(context: TraceContext): void {
  const active = getActiveContext();
  if (active instanceof ResponseContext) active.adopt(context);
}
