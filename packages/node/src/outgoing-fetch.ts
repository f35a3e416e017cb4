import { AsyncResource } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { CarrierSetter } from '@tracewire/core';
import {
  carriesActiveTrace,
  isActiveTraceHeader,
  isReplacedHeader,
  lowercasePairs,
  withoutReplacedPairs,
} from './outgoing-forwarded.js';
import {
  type CallTarget,
  type ClientCall,
  callChannelHandlers,
  endClientCall,
  injectClientCall,
  isTraceHeader,
  type OutgoingState,
  recordPeer,
  recordResponseStatus,
  startClientCall,
} from './outgoing-span.js';
import { schemePort, splitAuthority } from './outgoing-url.js';
import type { PeerSocket } from './socket-peer.js';

/**
 * The part of undici's `Request` its diagnostics channels expose (the same across undici 5-8 and the copy bundled in
 * Node 20+ for `fetch`, but for the names of its response handlers, renamed in undici 8). `headers` is a flat
 * `[name, value, ...]` array since undici 6, a `name: value\r\n` string before.
 */
interface UndiciRequest {
  origin: string | URL;
  method: string;
  path: string;
  headers: string[] | string;
  /** `'websocket'` for a WebSocket's handshake; null otherwise (a CONNECT upgrades without it). */
  upgrade?: string | null;
  addHeader(name: string, value: string): unknown;
  onUpgrade?: (statusCode: unknown, ...rest: unknown[]) => unknown;
  // undici 5-7
  onHeaders?: (...args: unknown[]) => unknown;
  onData?: (...args: unknown[]) => unknown;
  onComplete?: (...args: unknown[]) => unknown;
  onError?: (...args: unknown[]) => unknown;
  // undici 8
  onRequestUpgrade?: (statusCode: unknown, ...rest: unknown[]) => unknown;
  onResponseStart?: (...args: unknown[]) => unknown;
  onResponseData?: (...args: unknown[]) => unknown;
  onResponseEnd?: (...args: unknown[]) => unknown;
  onResponseError?: (...args: unknown[]) => unknown;
  [kCall]?: ClientCall;
  [kScope]?: AsyncResource;
}

const kCall = Symbol('tracewire.clientCall');
/** The async scope a request was made in, entered again while undici runs its response's handlers. */
const kScope = Symbol('tracewire.requestScope');

/** The reason undici cancels the body of a Response that was garbage collected unread (undici 5–7). */
const GARBAGE_COLLECTED = 'Response object has been garbage collected';

/** A request and how many of its header entries the caller set, before anything was injected. */
interface UndiciCarrier {
  readonly request: UndiciRequest;
  readonly callerHeaders: string[] | string;
  readonly callerEntries: number;
}

// Never add a second value to a header the caller set, whatever its case (`baggage` by hand stays as written, as
// on the `http` path): undici would send both, joined. Only the caller's entries are scanned, so injecting many
// headers (Jaeger's uberctx-* baggage) stays linear.
const undiciSetter: CarrierSetter<UndiciCarrier> = {
  set(carrier, key, value) {
    if (!someHeaderName(carrier.callerHeaders, carrier.callerEntries, sameHeaderName, key)) {
      carrier.request.addHeader(key, value);
    }
  },
};

function sameHeaderName(key: string, name: string): boolean {
  return name.length === key.length && name.toLowerCase() === key.toLowerCase();
}

/**
 * Traces `fetch` and the `undici` package through the channels undici publishes for every request; both copies
 * publish on the same process-wide channel names, so one subscription serves both. `undici:request:create` fires
 * in the caller's async context before the request is written, so the active span is the caller's and
 * `addHeader` still reaches the wire. Returns the unsubscribe function.
 */
export function subscribeUndici(state: OutgoingState): () => void {
  const stats = state.tracer.stats;

  const onCreate = (message: unknown): void => {
    try {
      const request = (message as { request?: UndiciRequest }).request;
      if (request === undefined || request[kCall] !== undefined) return;
      // Entering a scope kept from here swaps the async context back in; `runInContext` would build a new one
      // per handler call (on Node 24 two copies of the async context frame, about 2 500 instructions each time).
      request[kScope] = new AsyncResource('tracewire.undici.request');
      runResponseInContext(request);
      traceCreated(request);
    } catch {
      stats.instrumentationErrors++;
    }
  };

  /** Runs in the context the call belongs to: its span is the parent, its baggage goes out. */
  const traceCreated = (request: UndiciRequest): void => {
    try {
      const headers = request.headers;
      let entries = Array.isArray(headers) ? headers.length : 0;
      const forwarded = someHeaderName(headers, entries, isTraceHeader, state);
      // undici 5's headers are one string, which is not rewritten: a call with trace headers there stays untraced.
      if (forwarded && !(Array.isArray(headers) && carriesActiveTrace(state, lowercasePairs(headers))))
        return;
      const origin = typeof request.origin === 'string' ? request.origin : request.origin.href;
      const call = startClientCall(state, targetOf(request.method, origin, request.path));
      if (call === undefined) return;
      request[kCall] = call;
      if (forwarded && Array.isArray(headers)) {
        // In place: undici writes its own list out only later.
        const kept = withoutReplacedPairs(state, headers);
        headers.length = 0;
        headers.push(...kept);
        entries = kept.length;
      }
      if (request.upgrade || request.method === 'CONNECT') endOnUpgrade(request, call);
      const carrier: UndiciCarrier = { request, callerHeaders: headers, callerEntries: entries };
      injectClientCall(state, call, carrier, undiciSetter);
      // After our own headers: as on the `http` path, also where nothing was propagated (outgoing-http.ts).
      request.addHeader = addHeaderKeepingTrace;
    } catch {
      stats.instrumentationErrors++;
    }
  };

  /** The headers the propagators write (`traceparent`, `tracestate`, `baggage`, B3's, ...), lowercase. */
  const propagatedHeaders = new Set(state.tracer.propagator.fields.map((field) => field.toLowerCase()));
  // Jaeger's baggage goes in headers named by their keys, which no list of fields can hold.
  const jaegerBaggage = propagatedHeaders.has('uber-trace-id');

  /**
   * Another instrumentation subscribed to `undici:request:create` after tracewire (OpenTelemetry's undici one, kept
   * on beside tracewire, or started after it) adds its own propagation headers to a call tracewire already traced,
   * through the API bridge from the same context: undici sends both values of each, which the next service reads as
   * none (two `traceparent`s, B3's ids twice), as a broken `tracestate`, or as baggage twice. So on such a call a
   * trace header is not added when the call has one already (tracewire's) or when it carries the active trace (as
   * `setHeader` on `http`, outgoing-forwarded.ts); a baggage header not when the call has the same one already; and
   * no propagation header at all where the destination rules said none.
   */
  const addHeaderKeepingTrace = function addHeaderKeepingTrace(
    this: UndiciRequest,
    name: string,
    value: string,
  ): unknown {
    if (typeof name === 'string') {
      const lower = name.toLowerCase();
      const traceHeader = isReplacedHeader(state, lower);
      if (traceHeader || propagatedHeaders.has(lower) || (jaegerBaggage && lower.startsWith('uberctx-'))) {
        if (this[kCall]?.propagate === false) return this;
        const headers = this.headers;
        const entries = Array.isArray(headers) ? headers.length : 0;
        if (
          traceHeader
            ? someHeaderName(headers, entries, sameHeaderName, lower) ||
              isActiveTraceHeader(state, name, value)
            : hasHeaderValue(headers, entries, lower, value)
        )
          return this;
      }
    }
    // Looked up at each call, as on the `http` path: a patch put on the prototype later still sees every call.
    const addHeader = Reflect.get(
      Object.getPrototypeOf(this) as object,
      'addHeader',
      this,
    ) as UndiciRequest['addHeader'];
    return addHeader.call(this, name, value);
  };

  const onTrailers = (message: unknown): void => {
    try {
      const call = (message as { request?: UndiciRequest }).request?.[kCall];
      if (call !== undefined) endClientCall(call);
    } catch {
      stats.instrumentationErrors++;
    }
  };

  // The one event that shows the request's connection, as its headers are written to it.
  const onSendHeaders = (message: unknown): void => {
    try {
      const { request, socket } = message as {
        request?: UndiciRequest;
        socket?: PeerSocket & { alpnProtocol?: unknown };
      };
      const call = request?.[kCall];
      if (call === undefined) return;
      recordPeer(call, socket);
      // undici speaks HTTP/1.1 unless it negotiated h2 (allowH2) on a TLS connection.
      call.span.setAttribute('network.protocol.version', socket?.alpnProtocol === 'h2' ? '2' : '1.1');
    } catch {
      stats.instrumentationErrors++;
    }
  };

  const { onResponse, onError: onFailure } = callChannelHandlers(state, kCall);

  // A Response dropped with its body unread is cancelled by undici once it is garbage collected, maybe minutes
  // later, with this string as the reason. The HTTP semantic conventions ("HTTP client span duration") say such a
  // span should not end in that clean-up but after the response headers: so it ends when they arrived, as the answer
  // it was, not as a failure. Any other reason that is no Error (`controller.abort('user cancelled')`,
  // `reader.cancel('enough')`) is the caller's abort or cancel, as undici's own AbortError is.
  const onError = (message: unknown): void => {
    try {
      const { request, error } = message as { request?: UndiciRequest; error?: unknown };
      const call = request?.[kCall];
      if (call === undefined) return;
      if (error === GARBAGE_COLLECTED && call.respondedAt > 0) {
        endClientCall(call, undefined, call.respondedAt);
      } else if (error instanceof Error) {
        onFailure(message);
      } else {
        endClientCall(call, { name: 'AbortError', message: String(error ?? 'aborted') });
      }
    } catch {
      stats.instrumentationErrors++;
    }
  };

  const subscriptions: [string, (message: unknown) => void][] = [
    ['undici:request:create', onCreate],
    ['undici:client:sendHeaders', onSendHeaders],
    ['undici:request:headers', onResponse],
    ['undici:request:trailers', onTrailers],
    ['undici:request:error', onError],
  ];
  for (const [name, handler] of subscriptions) diagnosticsChannel.subscribe(name, handler);
  return () => {
    for (const [name, handler] of subscriptions) diagnosticsChannel.unsubscribe(name, handler);
  };
}

/**
 * undici calls a response's handlers from the connection's callbacks, whose context is that of whoever opened the
 * connection (maybe another trace), or from inside another caller's code: a pipelined response parsed while the one
 * before it is read, an abort. The async scope the request was made in (tracewire's context, and every other
 * `AsyncLocalStorage`'s store: an app's request id) is made active around each such call, and only there: a
 * redirect or retry hop undici dispatches from a handler, a retry's timer and the caller's callbacks belong to the
 * request's trace, and the code around the call keeps its own. The methods are shadowed on this one request, with
 * functions shared by all requests; one already shadowed (another instrumentation's wrapper) is left alone, as ours
 * call the prototype's. Each method is named in the code, not looked up by a name in a loop: a lookup by a name that
 * varies is a generic (megamorphic) one, paid for every request and every chunk of its response.
 */
function runResponseInContext(request: UndiciRequest): void {
  const proto = Object.getPrototypeOf(request) as UndiciRequest;
  const { onHeaders, onData, onComplete, onError } = proto;
  if (typeof onHeaders === 'function') {
    if (request.onHeaders === onHeaders) request.onHeaders = onHeadersInContext;
    if (typeof onData === 'function' && request.onData === onData) request.onData = onDataInContext;
    if (typeof onComplete === 'function' && request.onComplete === onComplete)
      request.onComplete = onCompleteInContext;
    if (typeof onError === 'function' && request.onError === onError) request.onError = onErrorInContext;
    return;
  }
  const { onResponseStart, onResponseData, onResponseEnd, onResponseError } = proto;
  if (typeof onResponseStart === 'function' && request.onResponseStart === onResponseStart)
    request.onResponseStart = onResponseStartInContext;
  if (typeof onResponseData === 'function' && request.onResponseData === onResponseData)
    request.onResponseData = onResponseDataInContext;
  if (typeof onResponseEnd === 'function' && request.onResponseEnd === onResponseEnd)
    request.onResponseEnd = onResponseEndInContext;
  if (typeof onResponseError === 'function' && request.onResponseError === onResponseError)
    request.onResponseError = onResponseErrorInContext;
}

function onHeadersInContext(this: UndiciRequest, ...args: unknown[]): unknown {
  return applyInRequestContext(this, (Object.getPrototypeOf(this) as UndiciRequest).onHeaders, args);
}

function onDataInContext(this: UndiciRequest, ...args: unknown[]): unknown {
  return applyInRequestContext(this, (Object.getPrototypeOf(this) as UndiciRequest).onData, args);
}

function onCompleteInContext(this: UndiciRequest, ...args: unknown[]): unknown {
  return applyInRequestContext(this, (Object.getPrototypeOf(this) as UndiciRequest).onComplete, args);
}

function onErrorInContext(this: UndiciRequest, ...args: unknown[]): unknown {
  return applyInRequestContext(this, (Object.getPrototypeOf(this) as UndiciRequest).onError, args);
}

function onResponseStartInContext(this: UndiciRequest, ...args: unknown[]): unknown {
  return applyInRequestContext(this, (Object.getPrototypeOf(this) as UndiciRequest).onResponseStart, args);
}

function onResponseDataInContext(this: UndiciRequest, ...args: unknown[]): unknown {
  return applyInRequestContext(this, (Object.getPrototypeOf(this) as UndiciRequest).onResponseData, args);
}

function onResponseEndInContext(this: UndiciRequest, ...args: unknown[]): unknown {
  return applyInRequestContext(this, (Object.getPrototypeOf(this) as UndiciRequest).onResponseEnd, args);
}

function onResponseErrorInContext(this: UndiciRequest, ...args: unknown[]): unknown {
  return applyInRequestContext(this, (Object.getPrototypeOf(this) as UndiciRequest).onResponseError, args);
}

function applyInRequestContext(
  request: UndiciRequest,
  method: ((...args: unknown[]) => unknown) | undefined,
  args: unknown[],
): unknown {
  const scope = request[kScope];
  if (scope === undefined) return Reflect.apply(method!, request, args);
  return scope.runInAsyncScope(Reflect.apply, undefined, method!, request, args);
}

/**
 * undici publishes nothing more for a request answered by an upgrade (a WebSocket's `101 Switching Protocols`,
 * a CONNECT's 200): it hands the socket over through the request's own `onUpgrade` (`onRequestUpgrade` in undici 8),
 * which no channel reports. undici 8.13 publishes `headers` and `trailers` there, but the undici 8.10 inside Node 26
 * does not, and undici's `WebSocket` of any version opens on the global dispatcher, Node's own copy's.
 * Without this the span of every WebSocket opened with `WebSocket` (Node 22+) or undici's stayed open for good.
 * The method is shadowed on this one request, which undici drops once it is answered; ending twice is harmless.
 */
function endOnUpgrade(request: UndiciRequest, call: ClientCall): void {
  const legacy = request.onUpgrade;
  const upgrade = typeof legacy === 'function' ? legacy : request.onRequestUpgrade;
  if (typeof upgrade !== 'function') return;
  const upgraded = function upgraded(this: UndiciRequest, statusCode: unknown, ...rest: unknown[]) {
    try {
      if (typeof statusCode === 'number') recordResponseStatus(call, statusCode);
      endClientCall(call);
    } catch {
      call.stats.instrumentationErrors++;
    }
    return Reflect.apply(upgrade, this, [statusCode, ...rest]);
  };
  if (upgrade === legacy) request.onUpgrade = upgraded;
  else request.onRequestUpgrade = upgraded;
}

/** Whether undici's flat `[name, value, ...]` list (undici 6+) has `lower` in any case with exactly `value`. */
function hasHeaderValue(
  headers: string[] | string | undefined,
  entries: number,
  lower: string,
  value: unknown,
): boolean {
  if (!Array.isArray(headers)) return false;
  for (let i = 0; i + 1 < entries; i += 2) {
    const name = headers[i];
    if (headers[i + 1] === value && typeof name === 'string' && sameHeaderName(lower, name)) return true;
  }
  return false;
}

/**
 * Whether a header name in undici's `headers` passes `test(arg, name)`: the first `entries` items of a flat
 * `[name, value, ...]` array (undici 6+), or every line of a `name: value\r\n` string (undici 5). `test` takes its
 * argument rather than closing over it, so no function is made per call.
 */
function someHeaderName<T>(
  headers: string[] | string | undefined,
  entries: number,
  test: (arg: T, name: string) => boolean,
  arg: T,
): boolean {
  if (Array.isArray(headers)) {
    for (let i = 0; i < entries; i += 2) {
      const name = headers[i];
      if (typeof name === 'string' && test(arg, name)) return true;
    }
    return false;
  }
  if (typeof headers === 'string' && headers.length > 0) {
    for (const line of headers.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0 && test(arg, line.slice(0, colon).trim())) return true;
    }
  }
  return false;
}

/** `http://host:port` (undici's origin is always scheme + authority) and the request line, as a call target. */
function targetOf(method: string, origin: string, path: string): CallTarget {
  const schemeEnd = origin.indexOf('://');
  const protocol = schemeEnd === -1 ? 'http:' : `${origin.slice(0, schemeEnd).toLowerCase()}:`;
  let authority = schemeEnd === -1 ? origin : origin.slice(schemeEnd + 3);
  const slash = authority.indexOf('/');
  if (slash !== -1) authority = authority.slice(0, slash);
  const { host, port } = splitAuthority(authority);
  return { method, protocol, hostname: host, port: port ?? schemePort(protocol), path };
}
