import type { IncomingMessage } from 'node:http';
import { isClientGoneError, runInContext, ServerTracing } from '@tracewire/node';

// A `ctx.body` stream that fails never rejects the middleware chain: Koa hands its error to `ctx.onerror` (Koa 2
// from the stream's 'error' listener, Koa 3 from `pipeline`), which answers 500 or, once headers are out, cuts
// the connection. Without this the span showed a bare 500, or `aborted` as if the client had left. Wrapping
// `onerror` on the app's context prototype (app-context.ts; Koa documents `onerror` as overridable) costs one
// wrapper per app rather than a closure per request.

/** The part of Koa's context read here. */
interface ErrorContext {
  req?: IncomingMessage;
  body?: unknown;
  onerror?: unknown;
}

/** What Koa pipes to the response: Node streams, and in Koa 3 web streams, Blobs and Responses. */
function isStreamBody(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false;
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return true;
  return body instanceof ReadableStream || body instanceof Blob || body instanceof Response;
}

function recordBodyError(ctx: ErrorContext, error: unknown): void {
  try {
    if (error === null || typeof error !== 'object' || ctx.req === undefined) return;
    // Errors thrown through the middleware are recorded on their way out; only the body's are new here.
    if (!isStreamBody(ctx.body) || isClientGoneError(error)) return;
    ServerTracing.current(ctx.req)?.recordError(error);
  } catch {
    // An unusual context or error object: the app's own error handling below still runs.
  }
}

function callWith(fn: (...args: unknown[]) => unknown, self: unknown, args: unknown[]): unknown {
  return fn.apply(self, args);
}

/**
 * Makes Koa's `ctx.onerror` on an app's contexts (its context prototype) record a failing body stream's error, and
 * run in the request's context: Koa calls it from a `.catch` attached outside the middleware, so the
 * `app.on('error')` listeners it calls (where apps log errors) would otherwise see no active span.
 */
export function watchBodyErrors(prototype: object & ErrorContext): void {
  const original = prototype.onerror;
  if (typeof original !== 'function') return;
  Object.defineProperty(prototype, 'onerror', {
    configurable: true,
    enumerable: false,
    writable: true,
    value: function onerror(this: ErrorContext, ...args: unknown[]): unknown {
      // Koa calls it with null on every response's finish: nothing to record, nothing of the app's to run.
      if (args[0] == null) return original.apply(this, args);
      recordBodyError(this, args[0]);
      const trace = this.req === undefined ? undefined : ServerTracing.current(this.req);
      if (trace === undefined) return original.apply(this, args);
      return runInContext(trace.context, callWith, original as (...args: unknown[]) => unknown, this, args);
    },
  });
}

/**
 * Koa's convention for error-handling middleware that answers an error itself: emit it on the app
 * (`ctx.app.emit('error', err, ctx)`), for its logging. Such an error never travels back up through the tracing
 * middleware; the app's `error` event records it on the request's span. Added on the first traced request, after
 * `app.callback()` has checked for listeners (Koa adds its default logger only to an app without any).
 */
export function recordEmittedErrors(app: unknown): void {
  const on = (app as { on?: unknown } | null)?.on;
  if (typeof on !== 'function') return;
  on.call(app, 'error', recordEmittedError);
}

function recordEmittedError(error: unknown, ctx: unknown): void {
  try {
    const req = (ctx as ErrorContext | null | undefined)?.req;
    if (req === undefined || isClientGoneError(error)) return;
    ServerTracing.current(req)?.recordError(error);
  } catch {
    // An unusual context: the app's other listeners still run.
  }
}
