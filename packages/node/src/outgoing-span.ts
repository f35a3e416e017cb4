import { type CarrierSetter, isSpanContextValid, type Propagator } from '@tracewire/core';
import { newAttributes } from './attribute-record.js';
import { recordAnswerStatus } from './client-status.js';
import { now } from './clock.js';
import { getActiveBaggage, getActiveContext } from './context.js';
import { normalizeMethod } from './http-methods.js';
import { finishGrpcSpan, type GrpcCall, grpcSpanName, recordGrpcMethod } from './outgoing-grpc.js';
import type { Destination, ResolvedOutgoingOptions } from './outgoing-options.js';
import { recordForwardedTarget, recordTunnelTarget } from './outgoing-proxy.js';
import { recordSocketCall } from './outgoing-socket.js';
import { formatUrl, stripBrackets } from './outgoing-url.js';
import { RecordingSpan } from './recording-span.js';
import { type PeerSocket, peerOf } from './socket-peer.js';
import type { Span } from './span.js';
import { type Attributes, SpanKind, SpanStatusCode } from './span-data.js';
import type { TracerStats } from './stats.js';
import type { Tracer } from './tracer.js';

/** One installation's view of the world: shared by the fetch and http layers, built once. */
export interface OutgoingState {
  readonly tracer: Tracer;
  readonly options: ResolvedOutgoingOptions;
  /** Lowercase header names that mean "this call already carries a trace" (user-set or another layer's). */
  readonly traceHeaders: readonly string[];
  /** Lowercase names a forwarded call's own trace headers are dropped under: the trace headers and tracestate. */
  readonly replacedHeaders: ReadonlySet<string>;
  /** False once uninstalled: wrappers someone else captured keep working but do nothing. */
  active: boolean;
}

/** One traced outgoing call. */
export interface ClientCall {
  readonly span: Span;
  /** Where a failure while ending the span is counted (listeners have no other way to report it). */
  readonly stats: TracerStats;
  readonly destination: Destination;
  /** Whether the destination rules allow trace headers. */
  readonly propagate: boolean;
  /** Set for a gRPC call (over HTTP/2), which is recorded and judged as an RPC. */
  readonly grpc: GrpcCall | undefined;
  statusCode: number;
  /** Epoch ms when the response headers arrived; 0 before. */
  respondedAt: number;
  ended: boolean;
}

/** The destination of a call, before redaction. */
export interface CallTarget {
  /** As it goes out on the wire. */
  method: string;
  protocol: string;
  /** Host name as given; IPv6 may come with or without brackets. */
  hostname: string;
  port: number;
  /** Path and query as sent. */
  path: string;
  /** Set only for a call over a Unix domain socket (or Windows named pipe); host and port are then Node's filler. */
  socketPath?: string;
  /** `network.protocol.version`, where it is not HTTP/1.1: `'2'`. */
  protocolVersion?: string;
  /** Set for a gRPC call: the span is named and described as an RPC instead of an HTTP request. */
  grpc?: GrpcCall;
}

export function createOutgoingState(tracer: Tracer, options: ResolvedOutgoingOptions): OutgoingState {
  const traceHeaders = new Set(['traceparent']);
  // tracestate and baggage ride along with a context; only the headers that carry the trace id itself say
  // "someone already propagated this call".
  for (const field of tracer.propagator.fields) {
    if (field !== 'tracestate' && field !== 'baggage') traceHeaders.add(field);
  }
  return {
    tracer,
    options,
    traceHeaders: [...traceHeaders],
    replacedHeaders: new Set([...traceHeaders, 'tracestate']),
    active: true,
  };
}

/**
 * Decides whether a call is traced and starts its client span. Undefined: leave the call alone (tracing
 * suppressed, e.g. the exporter's own requests; or no active span and root calls not traced).
 */
export function startClientCall(state: OutgoingState, target: CallTarget): ClientCall | undefined {
  if (!state.active) return undefined;
  const context = getActiveContext();
  if (context?.suppressed === true) return undefined;
  // A span with the invalid context (started on a tracer that was replaced or shut down) gives the call no parent:
  // the tracer would start a new trace for it, which is a root call like one with no span at all.
  const active = context?.span;
  if ((active === undefined || !isSpanContextValid(active.spanContext())) && !state.options.traceRootCalls) {
    return undefined;
  }

  const attributes = newAttributes();
  const grpc = target.grpc;
  let name: string;
  if (grpc === undefined) {
    const method = normalizeMethod(target.method, state.options.knownMethods);
    const known = method !== '_OTHER';
    name = known ? method : 'HTTP';
    attributes['http.request.method'] = method;
    // Semconv: kept whenever it differs from http.request.method, so also `patch`, which fetch sends as written.
    if (!known || method !== target.method) attributes['http.request.method_original'] = target.method;
  } else {
    name = grpcSpanName(grpc);
    recordGrpcMethod(grpc, attributes);
  }
  const destination = recordDestination(state.options, target, target.method.toUpperCase(), attributes);
  if (target.protocolVersion !== undefined) {
    attributes['network.protocol.version'] = target.protocolVersion;
  }
  const span = state.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
  return {
    span,
    stats: state.tracer.stats,
    destination,
    propagate: state.options.shouldPropagate(destination),
    grpc,
    statusCode: 0,
    respondedAt: 0,
    ended: false,
  };
}

/** Records where the call goes on its attributes; returns the destination as the propagation rules judge it. */
function recordDestination(
  options: ResolvedOutgoingOptions,
  target: CallTarget,
  method: string,
  attributes: Attributes,
): Destination {
  if (target.socketPath !== undefined) {
    return recordSocketCall(options.redactor, target.protocol, target.socketPath, target.path, attributes);
  }
  const hostname = stripBrackets(target.hostname).toLowerCase();
  if (
    method === 'CONNECT' &&
    recordTunnelTarget(target.protocol, target.path, hostname, target.port, attributes)
  ) {
    // The tunnel's target never sees a CONNECT's headers; the proxy reads them, so the rules judge the proxy.
    return { hostname, port: target.port, url: formatUrl(target.protocol, hostname, target.port, '') };
  }
  // A path that is not origin-form (`/…`) may be a forward proxy's absolute-form target.
  if (target.path.charCodeAt(0) !== 47 /* / */) {
    const forwarded = recordForwardedTarget(options.redactor, target.path, hostname, target.port, attributes);
    if (forwarded !== undefined) return forwarded;
  }
  const url = options.redactor.url(formatUrl(target.protocol, hostname, target.port, target.path));
  // An RPC span names its method instead (the RPC conventions have no URL).
  if (target.grpc === undefined) attributes['url.full'] = url;
  attributes['server.address'] = hostname;
  attributes['server.port'] = target.port;
  return { hostname, port: target.port, url };
}

/**
 * Writes the call's trace headers through `setter` unless the destination rules forbid it. A failing propagator
 * is counted and the call goes out with whatever was written: the span is still recorded and ended.
 */
export function injectClientCall<C>(
  state: OutgoingState,
  call: ClientCall,
  carrier: C,
  setter: CarrierSetter<C>,
): void {
  if (!call.propagate) return;
  const propagator: Propagator = state.tracer.propagator;
  try {
    propagator.inject({ spanContext: call.span.spanContext(), baggage: getActiveBaggage() }, carrier, setter);
  } catch {
    state.tracer.stats.instrumentationErrors++;
  }
}

/**
 * Semconv `network.peer.*`: the address the call's connection really reached (the resolved IP; a proxy's, when
 * there is one), read once the socket is connected, and once per connection (`peerOf`), so a kept-alive connection
 * asks the kernel once. A socket that knows no address (a Unix domain socket) keeps what the target said.
 */
export function recordPeer(call: ClientCall, socket: PeerSocket | null | undefined): void {
  const peer = peerOf(socket);
  if (peer === undefined) return;
  call.span.setAttribute('network.peer.address', peer.address);
  if (peer.port !== undefined) call.span.setAttribute('network.peer.port', peer.port);
}

export function recordResponseStatus(call: ClientCall, statusCode: number): void {
  call.statusCode = statusCode;
  // On the span's own clock: this becomes its end time when the body is dropped unread.
  call.respondedAt = call.span instanceof RecordingSpan ? call.span.now() : now();
  if (call.grpc === undefined) call.span.setAttribute('http.response.status_code', statusCode);
}

/** What a call whose response closed before its body completed ends with: an abort, not a success. */
export const RESPONSE_ABORTED = Object.freeze({
  name: 'ResponseAborted',
  message: 'the response closed before it completed',
});

/**
 * Ends the span once, now or at `endTime` (epoch ms). Status per the HTTP semantic conventions (client side):
 * ERROR on a network error and on 4xx/5xx, with `error.type` the error's code or the status code; unset otherwise,
 * and unset when the caller cancelled the call itself (an abort, a body cancelled), which is no error.
 */
export function endClientCall(call: ClientCall, error?: unknown, endTime?: number): void {
  if (call.ended) return;
  call.ended = true;
  try {
    finishSpan(call, error, endTime);
  } catch {
    call.stats.instrumentationErrors++;
  }
}

function finishSpan(call: ClientCall, error: unknown, endTime: number | undefined): void {
  const span = call.span;
  if (call.grpc !== undefined && finishGrpcSpan(span, call.grpc, call.statusCode, error)) {
    span.end(endTime);
    return;
  }
  // Semconv HTTP "Status": a cancellation the caller made on purpose SHOULD leave the status unset and set no
  // `error.type`. A request closed before any response without an error event was destroyed by its caller too.
  if (error !== undefined && !isCallerCancellation(error)) {
    const type = errorType(error);
    span.setAttribute('error.type', type);
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) ?? type });
  } else recordAnswerStatus(span, call.statusCode);
  span.end(endTime);
}

/**
 * The caller gave up on the call itself: an `AbortError` (an `AbortSignal`'s abort, fetch's body cancelled, a reason
 * of the caller's own that is no Error; Node's `http` reports a signal's abort the same way, whatever its reason), or
 * undici's `RequestAbortedError`. fetch rejects with a reason that is an Error as it is: that stays an error. Not
 * when the signal was `AbortSignal.timeout()`'s (fetch then fails with its `TimeoutError`, Node's `http` with an
 * AbortError caused by it): a time limit running out is a failure of the call.
 */
export function isCallerCancellation(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { name, code, cause } = error as { name?: unknown; code?: unknown; cause?: unknown };
  if (name === 'AbortError') return (cause as { name?: unknown } | null | undefined)?.name !== 'TimeoutError';
  return code === 'UND_ERR_ABORTED';
}

/**
 * True when `name`, in any case, is one of the headers that mean the call already carries a trace. Runs for
 * every header of every outgoing call, so it lowercases only a name whose length matches.
 */
export function isTraceHeader(state: OutgoingState, name: string): boolean {
  for (const header of state.traceHeaders) {
    if (header.length === name.length && (header === name || header === name.toLowerCase())) return true;
  }
  return false;
}

function errorType(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const { code, name, cause } = error as { code?: unknown; name?: unknown; cause?: unknown };
    // Node's http reports `AbortSignal.timeout()` as an ABORT_ERR caused by the TimeoutError fetch reports itself.
    if (name === 'AbortError' && (cause as { name?: unknown } | null | undefined)?.name === 'TimeoutError')
      return 'TimeoutError';
    if (typeof code === 'string' && code.length > 0) return code;
    if (typeof name === 'string' && name.length > 0 && name !== 'Error') return name;
  }
  return '_OTHER';
}

function errorMessage(error: unknown): string | undefined {
  if (error !== null && typeof error === 'object') {
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string' && message.length > 0) return message;
  }
  return undefined;
}

type ChannelHandler = (message: unknown) => void;

/**
 * The diagnostics-channel handlers both layers need once a request carries its call under `key`: record the
 * response status (and, for `node:http`, the peer and HTTP version), and end the call on an error. Undici's and
 * Node's messages both name them `request`, `response` (with `statusCode`) and `error`. A failure inside is
 * counted, never thrown into the publisher.
 */
export function callChannelHandlers(
  state: OutgoingState,
  key: symbol,
): { onResponse: ChannelHandler; onError: ChannelHandler } {
  const stats = state.tracer.stats;
  const callOf = (request: unknown): ClientCall | undefined =>
    (request as Record<symbol, ClientCall | undefined> | undefined)?.[key];
  return {
    onResponse(message) {
      try {
        const { request, response } = message as {
          request?: unknown;
          response?: { statusCode?: unknown; socket?: PeerSocket | null; httpVersion?: unknown };
        };
        const call = callOf(request);
        if (call !== undefined && typeof response?.statusCode === 'number') {
          recordResponseStatus(call, response.statusCode);
          // Node's IncomingMessage keeps its socket and version; undici's response, which has neither, reports
          // them at sendHeaders.
          recordPeer(call, response.socket);
          const version = response.httpVersion;
          if (typeof version === 'string') call.span.setAttribute('network.protocol.version', version);
        }
      } catch {
        stats.instrumentationErrors++;
      }
    },
    onError(message) {
      try {
        const { request, error } = message as { request?: unknown; error?: unknown };
        const call = callOf(request);
        if (call !== undefined) endClientCall(call, error ?? new Error('request failed'));
      } catch {
        stats.instrumentationErrors++;
      }
    },
  };
}
