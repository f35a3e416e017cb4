import type { IncomingMessage } from 'node:http';
import { ServerTracing } from '@tracewire/node';

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

/**
 * Errors that mean the client went away: Koa reports them through `ctx.onerror` too (the socket's ECONNRESET,
 * `pipeline`'s premature close), and the span already ends as `aborted` for them.
 */
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

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
    if (!isStreamBody(ctx.body)) return;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && CLIENT_GONE.has(code)) return;
    ServerTracing.current(ctx.req)?.recordError(error);
  } catch {
    // An unusual context or error object: the app's own error handling below still runs.
  }
}

/** Makes Koa's `ctx.onerror` on an app's contexts (its context prototype) record a failing body stream's error. */
export function watchBodyErrors(prototype: object & ErrorContext): void {
  const original = prototype.onerror;
  if (typeof original !== 'function') return;
  Object.defineProperty(prototype, 'onerror', {
    configurable: true,
    enumerable: false,
    writable: true,
    value: function onerror(this: ErrorContext, ...args: unknown[]): unknown {
      recordBodyError(this, args[0]);
      return original.apply(this, args);
    },
  });
}
