import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runInContext, type TraceContext } from './context.js';

/** Starts the request's span; undefined when it is already traced or tracing failed. */
type Start = (req: IncomingMessage, res: ServerResponse) => { readonly context: TraceContext } | undefined;
type Emit = (this: EventEmitter, event: string | symbol, ...args: unknown[]) => boolean;

/**
 * Starts each request's server span as `server` emits it, before any of its 'request' listeners runs, and emits it
 * inside the span's context. For frameworks whose own first hook may come after other code that already answers
 * or calls out: Fastify runs `onRequest` hooks in the order they were added, and NestJS, `@fastify/cors`, rate
 * limiters and auth plugins add theirs before an app registers tracing. Requests that never pass through the server
 * (Fastify's `inject`, a WebSocket handshake routed by hand) are left to the framework's hook. Returns the undo
 * function; the instance's `emit` is shadowed, never `EventEmitter.prototype`'s.
 */
export function startSpansOnEmit(server: EventEmitter, start: Start): () => void {
  const hadOwnEmit = Object.hasOwn(server, 'emit');
  const original = server.emit as Emit;
  let active = true;
  const tracedEmit: Emit = function tracedEmit(event, ...args) {
    if (event !== 'request' || !active) return original.call(this, event, ...args);
    const trace = start(args[0] as IncomingMessage, args[1] as ServerResponse);
    if (trace === undefined) return original.call(this, event, ...args);
    return runInContext(trace.context, emitRequest, this, original, args[0], args[1]);
  };
  server.emit = tracedEmit;
  return () => {
    active = false;
    // Someone shadowed it on top of us: theirs stays, ours passes everything through.
    if (server.emit !== tracedEmit) return;
    if (hadOwnEmit) server.emit = original;
    else delete (server as { emit?: unknown }).emit;
  };
}

function emitRequest(server: EventEmitter, emit: Emit, req: unknown, res: unknown): boolean {
  return emit.call(server, 'request', req, res);
}
