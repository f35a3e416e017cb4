import type { EventEmitter } from 'node:events';
import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';
import { type Baggage, isSpanContextValid, lowercaseHeadersGetter, TraceFlags } from '@tracewire/core';
import { newAttributes } from './attribute-record.js';
import { addBaggageAttributes } from './baggage-attributes.js';
import { getActiveContext, type TraceContext } from './context.js';
import { errorTypeOf, isClientGoneError } from './error-type.js';
import { getTracer } from './global.js';
import { captureRequestHeaders, captureResponseHeaders } from './header-capture.js';
import { normalizeMethod } from './http-methods.js';
import { pathOf, requestAttributes, requestTarget, serverSpanName } from './http-server-attributes.js';
import { NonRecordingSpan, unsampledRoot } from './non-recording-span.js';
import { deliveredWhole, type PipeStart, pipeStart } from './piped-body-delivery.js';
import { RecordingSpan } from './recording-span.js';
import { startSpansOnEmit } from './server-emit.js';
import {
  type ResolvedServerOptions,
  resolveServerOptions,
  type ServerTracingOptions,
} from './server-options.js';
import type { Span } from './span.js';
import { type Attributes, SpanKind, type SpanLink, SpanStatusCode } from './span-data.js';
import type { Tracer } from './tracer.js';
import { SWITCHING_PROTOCOLS, statusLineCode, watchRawAnswer } from './upgrade-answer.js';

const ERROR = Object.freeze({ code: SpanStatusCode.ERROR });

// Symbol.for so two copies of @tracewire/node in one process (nested apps) still see each other's trace.
const kTrace = Symbol.for('tracewire.serverTrace');

type Traced = { [kTrace]?: RequestTrace };

/** Anything that answers `getHeader` like `ServerResponse`. */
export interface ResponseHeaderSource {
  getHeader(name: string): unknown;
}

// Brands a request's context across copies of this package: the ES module and CommonJS builds each have their own
// RequestContext class, so `instanceof` fails for a context the other copy entered. A registered symbol on the
// prototype is one inline-cached property load, as cheap as the `instanceof` it replaces. Versioned like
// process-shared's key: a copy that changes what a context holds takes a new key.
const kRequestContext = Symbol.for('tracewire.node.requestContext.v1');

type BrandedContext = TraceContext & { readonly [kRequestContext]?: true; readonly trace?: RequestTrace };

/**
 * What an adapter enters for a request's handler: the span and baggage, and the trace only until it ends; never
 * `req` or the framework's objects. Every async resource made inside the request keeps its context alive, and
 * some outlive the request: a context that was the trace itself kept `req`, the response and the framework's
 * objects reachable through them, so more of each request survived into the old generation (Node 20, Fastify
 * `/chain/:id` at 2000 req/s: 13.1–13.8 KB promoted per request and 14 full collections per 16 000 requests;
 * 11.9–12.3 KB and 11 with this context; 10.5–10.8 KB and 11 with no tracer).
 */
class RequestContext implements TraceContext {
  readonly suppressed = false;
  /** The trace, for the adapters' error paths, while it can still record; dropped when it ends. */
  trace: RequestTrace | undefined = undefined;
  // Empty until `fill`: made by the request's trace, or entered before it started (`openRequestContext`).
  span: Span | undefined = undefined;
  baggage: Baggage | undefined = undefined;
  callerTraceId: string | undefined = undefined;
  recordsNothing = false;

  /** Still waiting for its trace: entered by `openRequestContext` and not yet filled in by `start`. */
  get open(): boolean {
    return this.span === undefined;
  }

  /** Written once, by the request's trace. */
  fill(
    span: Span,
    baggage: Baggage | undefined,
    trace: RequestTrace | undefined,
    callerTraceId: string | undefined,
    recordsNothing: boolean,
  ): this {
    this.span = span;
    this.baggage = baggage;
    this.trace = trace;
    this.callerTraceId = callerTraceId;
    this.recordsNothing = recordsNothing;
    return this;
  }

  get request(): RequestTrace | undefined {
    return this.trace;
  }

  get requestContext(): RequestContext {
    return this;
  }
}
Object.defineProperty(RequestContext.prototype, kRequestContext, { value: true });

/** One request's server span: adapters name the route and report errors; it ends itself exactly once. */
export class RequestTrace {
  readonly span: Span;
  readonly #context: RequestContext;
  readonly #req: IncomingMessage;
  readonly #method: string;
  readonly #tracing: ServerTracing | undefined;
  #route: string | undefined;
  #routeSource: object | undefined;
  #readRoute: ((source: never) => string | undefined) | undefined;
  #headerSource: ResponseHeaderSource | undefined;
  #pipedBody: object | undefined;
  #pipeStart: PipeStart | undefined;
  #error: unknown;
  #errorType: string | undefined;
  #timedOut = false;
  #ended = false;

  constructor(
    span: Span,
    baggage: Baggage | undefined,
    req: IncomingMessage,
    method: string,
    tracing: ServerTracing | undefined,
    route?: string,
    callerTraceId?: string,
    recordsNothing = false,
    into?: RequestContext,
  ) {
    this.#route = route || undefined;
    this.span = span;
    const trace = span.isRecording() ? this : undefined;
    this.#context = (into ?? new RequestContext()).fill(span, baggage, trace, callerTraceId, recordsNothing);
    this.#req = req;
    this.#method = method;
    this.#tracing = tracing;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Enter with `runInContext` for the handler, so `getActiveSpan()` and outgoing calls see the span. */
  get context(): TraceContext {
    return this.#context;
  }

  get baggage(): Baggage | undefined {
    return this.#context.baggage;
  }

  /** The route template once the framework has matched it (`/users/:id`), including mount prefixes. */
  setRoute(template: string | undefined): void {
    if (template === undefined || template.length === 0 || template === this.#route || this.#ended) return;
    this.#route = template;
    // Named as soon as the route is known, so anything reading the live span sees `GET /users/:id`.
    if (this.span.isRecording()) this.span.updateName(serverSpanName(this.#method, template));
  }

  /**
   * For frameworks that keep the route on their own request object: `read(source)` runs when the span ends,
   * including on a client abort while the handler still runs. `read` should be one function per app.
   */
  readRouteFrom<S extends object>(source: S, read: (source: S) => string | undefined): void {
    this.#routeSource = source;
    this.#readRoute = read as (source: never) => string | undefined;
  }

  /** For frameworks that hold response headers themselves until `writeHead` (Fastify's reply). */
  readResponseHeadersFrom(source: ResponseHeaderSource): void {
    this.#headerSource = source;
  }

  get route(): string | undefined {
    return this.#route;
  }

  /** @internal Called from the response's `pipe` listener. */
  bodyPiped(source: object, res: ServerResponse): void {
    this.#pipedBody = source;
    this.#pipeStart ??= pipeStart(res);
  }

  /** Adds the `exception` event; the error itself is left for the app to handle or re-throw. */
  recordError(error: unknown): void {
    if (this.#ended || error === this.#error || !this.span.isRecording()) return;
    // The client going away reaches the app as errors too (body-parser's 'request aborted' passed to `next(err)`, a
    // write after the connection closed): not the app's failure; the span ends as aborted.
    if (isClientGoneError(error) && this.#req.socket?.destroyed === true) return;
    // A framework answering the first error after the app had already started its response (Fastify sending its
    // 500) fails with ERR_HTTP_HEADERS_SENT: a consequence, which must not replace the error that failed the request.
    if (this.#error !== undefined && (error as { code?: unknown } | null)?.code === 'ERR_HTTP_HEADERS_SENT')
      return;
    this.#error = error;
    this.span.recordException(error);
    try {
      this.#errorType =
        error !== null && typeof error === 'object' ? (errorTypeOf(error) ?? '_OTHER') : '_OTHER';
    } catch {
      // A getter on the app's error object threw: adapters call this from the app's own error path.
      this.#errorType = '_OTHER';
      this.#tracing?.countError();
    }
  }

  /**
   * @internal The process is exiting under this request, with `error` when that is an uncaught exception its code
   * threw: the span ends now, failed (its response never completes), as the exit would otherwise lose it.
   */
  abandon(error?: unknown): void {
    if (this.#ended) return;
    if (error !== undefined) this.recordError(error);
    const res = (this.#req.socket as WatchedSocket | null)?._httpMessage;
    this.end(res?.req === this.#req ? res : undefined, false);
  }

  /** The server (not the client) gave up on the request; a following `close` ends the span as a timeout. */
  markTimedOut(): void {
    this.#timedOut = true;
  }

  #bodyDeliveredWhole(res: ServerResponse): boolean {
    const start = this.#pipeStart;
    if (start === undefined) return false;
    try {
      // A body that failed is a failure, however much of it went out.
      const bodyError = (this.#pipedBody as { errored?: unknown } | undefined)?.errored;
      return bodyError == null && deliveredWhole(res, start);
    } catch {
      this.#tracing?.countError();
      return false;
    }
  }

  /**
   * Why a response ended unfinished, when the server's side knows: the body piped into it failed, or the app
   * destroyed it with an error (`res.destroy(err)`, a hijacked Fastify reply, Koa with `respond = false`). Node keeps
   * that error as the response's `errored`; a client that went away leaves none, or one that says so.
   */
  #recordResponseFailure(res: ServerResponse): void {
    if (this.#pipedBody !== undefined) this.#recordBodyFailure();
    if (this.#errorType !== undefined) return;
    try {
      const error = (res as { errored?: unknown }).errored;
      if (error != null && !isClientGoneError(error)) this.recordError(error);
    } catch {
      this.#tracing?.countError();
    }
  }

  // A body that failed has its error as `errored` (a Node Readable's, Node >= 18) by the time the app or framework
  // destroys the response for it; reading it once the response closed unfinished needs no listener on the body.
  // When the client went away instead, the body is still intact here: a `pipeline` or framework only destroys it
  // after this `close` listener, which was added first.
  #recordBodyFailure(): void {
    try {
      const error = (this.#pipedBody as { errored?: unknown }).errored;
      if (error != null) this.recordError(error);
    } catch {
      this.#tracing?.countError();
    }
    this.#pipedBody = undefined;
  }

  /**
   * @internal Called from the response's `close` listener, or with the `status` of an upgrade's answer written
   * straight to the socket.
   */
  end(res: ServerResponse | undefined, completed: boolean, status = sentStatus(res)): void {
    if (this.#ended) return;
    if (!completed && res !== undefined) {
      if (this.#bodyDeliveredWhole(res)) completed = true;
      else this.#recordResponseFailure(res);
      // A server-sent event stream has no end of its own: the client closing it is how it ends, not a failure.
      if (this.#errorType === undefined && !this.#timedOut && isEventStream(res)) completed = true;
    }
    this.#ended = true;
    this.#context.trace = undefined;
    const tracing = this.#tracing;
    const span = this.span;
    if (tracing === undefined || !span.isRecording()) return;
    const options = tracing.options;
    try {
      const read = this.#readRoute?.(this.#routeSource as never);
      if (read !== undefined && read.length > 0) this.#route = read;
      const answeredStatus =
        status !== undefined && (completed || res?.headersSent === true) ? status : undefined;
      if (span instanceof RecordingSpan) span.setRouteAndStatus(this.#route, answeredStatus);
      else {
        // The other build's span (an app loading this package both as ES module and CommonJS): another class.
        if (this.#route !== undefined) span.setAttribute('http.route', this.#route);
        if (answeredStatus !== undefined) span.setAttribute('http.response.status_code', answeredStatus);
      }
      const headerSource = this.#headerSource ?? res;
      if (options.responseHeaders.length > 0 && headerSource !== undefined) {
        const captured: Attributes = {};
        captureResponseHeaders(options.responseHeaders, headerSource, captured);
        span.setAttributes(captured);
      }
      if (!completed) {
        // Semconv: the span failed when no response was completed; error.type says why (low cardinality).
        const timedOut = this.#timedOut || requestTimedOut(this.#req);
        span.setAttribute('error.type', timedOut ? 'timeout' : (this.#errorType ?? 'aborted'));
        span.setStatus(ERROR);
      } else if (status !== undefined && options.isError(status)) {
        span.setAttribute('error.type', this.#errorType ?? String(status));
        span.setStatus(ERROR);
      }
      // The final name is always `METHOD /route`, as every adapter reports it; `spanName` is the way to change it.
      span.updateName(serverSpanName(this.#method, this.#route));
    } catch {
      tracing.countError();
    }
    // User callbacks each get their own guard: one throwing must not cost the other its say.
    if (options.spanName !== undefined) {
      try {
        const custom = options.spanName(this.#req);
        if (typeof custom === 'string' && custom.length > 0) span.updateName(custom);
      } catch {
        tracing.countError();
      }
    }
    if (options.responseHook !== undefined && res !== undefined) {
      try {
        options.responseHook(span, this.#req, res);
      } catch {
        tracing.countError();
      }
    }
    span.end();
  }
}

/**
 * The status the client got. Once the head is written, `res.statusCode` can still be changed without reaching the
 * wire (Fastify sets 500 for a handler that throws after `reply.raw.writeHead(200)`; `res.status(200)` after an
 * error was sent, just before Express throws "headers already sent"); the head Node wrote says. Node names the status
 * in `statusMessage` as it writes the head, unless the app gave a message: while that still names `statusCode`, the
 * two agree and the head is not read. Reading a character of it makes V8 flatten the string Node concatenated it
 * into (~1.6k instructions, 1.5% of a Fastify request).
 */
function sentStatus(res: ServerResponse | undefined): number | undefined {
  if (res === undefined) return undefined;
  const status = res.statusCode;
  // HTTP/2 compatibility responses have no head string, and reading their statusMessage makes Node warn.
  const head = (res as { _header?: unknown })._header;
  if (typeof head !== 'string' || head.length < 12) return status;
  if (res.statusMessage === STATUS_CODES[status]) return status;
  // "HTTP/1.1 NNN ...": the digits at 9-11, read at once; the whole line is checked only when they differ.
  const written =
    (head.charCodeAt(9) - 0x30) * 100 + (head.charCodeAt(10) - 0x30) * 10 + head.charCodeAt(11) - 0x30;
  return written === status ? status : (statusLineCode(head) ?? status);
}

function isEventStream(res: ServerResponse): boolean {
  if (!res.headersSent) return false;
  const type = res.getHeader('content-type');
  if (typeof type === 'string') return type.toLowerCase().startsWith('text/event-stream');
  // Headers given to writeHead() alone are not kept for getHeader(); the head Node wrote still has them.
  const head = (res as { _header?: unknown })._header;
  return typeof head === 'string' && EVENT_STREAM_HEAD.test(head);
}

const EVENT_STREAM_HEAD = /\r\ncontent-type:[ \t]*text\/event-stream/i;

/**
 * Node's `requestTimeout` (the whole request not received in time) writes a 408 to the socket itself and destroys
 * it with ERR_HTTP_REQUEST_TIMEOUT: the response only sees `close`, as on a client abort.
 */
function requestTimedOut(req: IncomingMessage): boolean {
  const errored = (req.socket as (Socket & { errored?: unknown }) | null)?.errored;
  return (errored as { code?: unknown } | null | undefined)?.code === 'ERR_HTTP_REQUEST_TIMEOUT';
}

/**
 * Connections whose 'timeout' listener is in place: one listener per connection, not per request. Kept here rather
 * than marked on the socket, which would give every connection's socket another hidden class (see socket-peer.ts).
 */
const timeoutWatched = new WeakSet<Socket>();

type WatchedSocket = Socket & { _httpMessage?: (ServerResponse & Traced) | null };

/**
 * A server timeout (`server.setTimeout`, `server.timeout`) destroys the socket without an error, which `close`
 * alone cannot tell from a client going away. Node's own listener runs first and decides whether to destroy
 * (it only asks whether the request, response or server listen for 'timeout'), so listening on the socket changes
 * nothing for the app. `_httpMessage` is the response the connection is serving.
 */
function onSocketTimeout(this: WatchedSocket): void {
  traceOfResponse(this._httpMessage)?.markTimedOut();
}

/**
 * A response finds its trace through the request Node keeps on it (`res.req`), not through a property of its
 * own: on V8 < 13 (Node 20, 22) Express gives every response a hidden class of its own, and a property added to
 * such an object copies that class on every request. Responses whose `req` is another object carry the trace.
 */
function traceOfResponse(res: (ServerResponse & Traced) | null | undefined): RequestTrace | undefined {
  if (res == null) return undefined;
  return (res.req as (IncomingMessage & Traced) | undefined)?.[kTrace] ?? res[kTrace];
}

// Node emits 'close' on every response, a tick after 'finish' when the response completed, or when the connection
// went away first (then `writableFinished` is false). One listener serves both. An HTTP/2 compatibility response
// reports its stream's `writableFinished`, true once a reset stream is destroyed too; `writableEnded` says whether
// the app ever ended it.
//
// Node 20 also reports a response as finished when it was ended on a connection that had already gone (a body
// parser answering 400 to an aborted upload, before this 'close'); the request stream, destroyed with Node's
// ECONNRESET 'aborted' when the connection went before its body was in, tells that case apart. An app that stops
// reading an upload itself (leaving `for await`, a `pipeline` that failed) destroys the request with an error of
// its own, and its answer (a 413) still reaches the client.
//
// A request made in memory has no connection to go away: Fastify's `inject()` (light-my-request) and the serverless
// adapters that feed Lambda events to the app (serverless-http, @codegenie/serverless-express, @fastify/aws-lambda)
// give it a stand-in socket that never drains, so `writableFinished` stays false. Ending it is completing it there.
function onClose(this: ServerResponse): void {
  const drained = this.writableFinished || !(this.socket instanceof Socket);
  traceOfResponse(this)?.end(this, drained && this.writableEnded && !clientLeftMidUpload(this.req));
}

/**
 * Responses of pipelined requests (HTTP/1.1) waiting behind an earlier one on their connection, per connection.
 * Node emits no 'close' on a response that never got its connection: one that closed first (the client gone) left
 * the span open for good. One listener per connection, however many wait on it.
 */
const queuedResponses = new WeakMap<Socket, Set<ServerResponse>>();

function watchQueuedResponse(socket: Socket, res: ServerResponse): void {
  let queued = queuedResponses.get(socket);
  if (queued === undefined) {
    queued = new Set();
    queuedResponses.set(socket, queued);
    socket.once('close', onQueueingConnectionClose);
  }
  queued.add(res);
  // Its turn came: its own 'close' ends it from here on.
  res.once('close', forgetQueuedResponse);
}

function forgetQueuedResponse(this: ServerResponse): void {
  const socket = this.req?.socket;
  if (socket instanceof Socket) queuedResponses.get(socket)?.delete(this);
}

function onQueueingConnectionClose(this: Socket): void {
  const queued = queuedResponses.get(this);
  queuedResponses.delete(this);
  if (queued === undefined) return;
  // Whatever such a response holds never reached the client: no status of its own, ended as aborted.
  for (const res of queued) if (res.socket == null) traceOfResponse(res)?.end(undefined, false);
}

function onInMemoryFinish(this: ServerResponse): void {
  traceOfResponse(this)?.end(this, !clientLeftMidUpload(this.req));
}

function clientLeftMidUpload(req: IncomingMessage | undefined): boolean {
  return (req?.errored as { code?: unknown } | null | undefined)?.code === 'ECONNRESET';
}

// Readable#pipe and Stream#pipe emit 'pipe' on the destination with the source, before the first chunk moves.
function onPipe(this: ServerResponse, source: unknown): void {
  if (source !== null && typeof source === 'object') traceOfResponse(this)?.bodyPiped(source, this);
}

/** The per-app half: options validated once, then `start` per request. */
export class ServerTracing {
  readonly options: ResolvedServerOptions;

  constructor(options?: ServerTracingOptions) {
    this.options = resolveServerOptions(options);
    // Zero configuration: set up the global tracer now, so an invalid OTEL_* variable is warned of at startup and
    // outgoing calls are instrumented before the first request. Requests still look it up each time.
    if (this.options.tracer === undefined) getTracer();
  }

  tracer(): Tracer {
    return this.options.tracer ?? getTracer();
  }

  countError(): void {
    try {
      this.tracer().stats.instrumentationErrors++;
    } catch {
      // The tracer itself is unusable; nothing left to count with.
    }
  }

  /** The trace whose context is active here, if any: for callbacks that only run inside it. */
  static active(): RequestTrace | undefined {
    const context = getActiveContext() as BrandedContext | undefined;
    return context?.[kRequestContext] === true ? context.trace : undefined;
  }

  /** The trace already started for this request (by an outer app), if any. */
  static current(req: IncomingMessage): RequestTrace | undefined {
    return (req as IncomingMessage & Traced)[kTrace];
  }

  /**
   * Extracts the caller's context and starts the SERVER span. Returns `undefined` only when this request is
   * already traced (a mounted sub-app) or tracing failed; the adapter then just calls on. Given the context that
   * is active, when that is one `openRequestContext` made and no trace has filled yet, the trace's context is
   * that one: entering it again costs nothing.
   */
  start(
    req: IncomingMessage,
    res: ServerResponse,
    route?: string,
    active?: TraceContext,
  ): RequestTrace | undefined {
    const tracedReq = req as IncomingMessage & Traced;
    if (tracedReq[kTrace] !== undefined) return undefined;
    try {
      // Read once: on Node's IncomingMessage `headers` is a getter, a call each time it is not inlined (~500
      // instructions each on Express's requests under Node 24, whose prototype chain makes its loads megamorphic).
      const headers = req.headers;
      const into = active instanceof RequestContext && active.open ? active : undefined;
      const trace = this.#start(req, headers, res, route, into);
      tracedReq[kTrace] = trace;
      if (trace.span.isRecording()) {
        if (res.req !== req) (res as ServerResponse & Traced)[kTrace] = trace;
        res.on('close', onClose);
        // A body stream piped into the response (`stream.pipe(res)`, `pipeline(stream, res)`, Fastify's and Koa's
        // stream replies) that fails leaves only a destroyed response; its error is read at close.
        res.on('pipe', onPipe);
        const socket = req.socket as WatchedSocket | null;
        if (socket instanceof Socket) {
          if (!timeoutWatched.has(socket)) this.#watchTimeout(socket);
          if (headers.upgrade !== undefined) this.#watchUpgrade(trace, req, res, socket);
          else if (res.socket == null) watchQueuedResponse(socket, res);
        } else {
          // Made in memory (see onClose): @codegenie/serverless-express never emits 'close' on its response.
          res.on('finish', onInMemoryFinish);
        }
        // Started late (after an `await` in the app, or from a listener of this very 'close'): the response has
        // closed already and 'close' will not come again, so it ends here as it would have then.
        if (res.closed === true) onClose.call(res);
      }
      return trace;
    } catch {
      this.countError();
      return undefined;
    }
  }

  /**
   * Starts the span of every request `server` emits before its 'request' listeners run, and runs them in its
   * context (`server-emit.ts`); the adapter's hook then names the route. Returns the undo function.
   */
  startOnEmit(server: EventEmitter): () => void {
    return startSpansOnEmit(server, (req, res) => this.start(req, res));
  }

  #watchTimeout(socket: WatchedSocket): void {
    try {
      timeoutWatched.add(socket);
      socket.on('timeout', onSocketTimeout);
    } catch {
      // An HTTP/2 compatibility socket may refuse; the span then reports a timeout as an abort.
      this.countError();
    }
  }

  /**
   * An upgrade request's span ends when its answer is written, not with the WebSocket session that follows.
   * The answer goes to the socket either through the response (a refusal from the app: the response's own events
   * end the span) or raw (`ws` writes `101 Switching Protocols` itself, see upgrade-answer.ts). A response with no
   * socket is a stand-in made by a library that took the connection from Node's 'upgrade' event: express-ws routes
   * the request only after the handshake was written, so nothing more is answered and the span ends with the
   * connection; a library that routes first and answers later is watched like the rest.
   */
  #watchUpgrade(trace: RequestTrace, req: IncomingMessage, res: ServerResponse, socket: Socket): void {
    const endWith = (completed: boolean, status?: number): void => {
      try {
        trace.end(res, completed, status);
      } catch {
        this.countError();
      }
    };
    const answered = (status: number): void => endWith(true, status);
    if (res.socket === socket) {
      watchRawAnswer(socket, res, answered);
      return;
    }
    if (res.socket != null || (req as IncomingMessage & { upgrade?: boolean }).upgrade !== true) return;
    if (socket.bytesWritten > 0) {
      socket.once('close', () => endWith(true, SWITCHING_PROTOCOLS));
      return;
    }
    watchRawAnswer(socket, res, answered);
    socket.once('close', () => endWith(false));
  }

  #start(
    req: IncomingMessage,
    headers: IncomingHttpHeaders,
    res: ServerResponse,
    route: string | undefined,
    into: RequestContext | undefined,
  ): RequestTrace {
    const options = this.options;
    const tracer = this.tracer();
    const propagator = options.propagator ?? tracer.propagator;
    // Node lowercases incoming header names, so a header missing under its lowercase name is absent.
    const extracted = propagator.extract(headers, lowercaseHeadersGetter);
    const remote = extracted.spanContext;
    const method = normalizeMethod(req.method, options.knownMethods);
    const policy = options.incomingContext;

    if (this.#ignored(req, options)) {
      // Record nothing, but let the handler's outgoing calls carry the caller's trace on; without a caller,
      // an unsampled context keeps those calls from starting traces of their own (a B3 accept sent without ids
      // included: there is no caller's trace to join). A distrusted caller's sampled flag is not passed on,
      // and under 'link' not even its trace id.
      let passOn = remote;
      if (remote !== undefined && policy !== 'continue') {
        passOn =
          policy === 'link'
            ? undefined
            : { ...remote, traceFlags: remote.traceFlags & ~TraceFlags.SAMPLED, debug: undefined };
      }
      const span = new NonRecordingSpan(passOn ?? unsampledRoot());
      const callerTraceId = policy === 'link' ? remote?.traceId : undefined;
      // Nothing started under it records either (the app's spans, its outgoing calls), whatever the caller sampled.
      return new RequestTrace(
        span,
        extracted.baggage,
        req,
        method,
        undefined,
        undefined,
        callerTraceId,
        true,
        into,
      );
    }

    const attributes = newAttributes();
    requestAttributes(req, headers, method, this.options.redactor, attributes);
    if (route !== undefined && route.length > 0) attributes['http.route'] = route;
    captureRequestHeaders(options.requestHeaders, headers, attributes);
    if (tracer.baggageAttributes.length > 0)
      addBaggageAttributes(tracer.baggageAttributes, extracted.baggage, attributes);
    const conflicting = extracted.conflicting;
    let links = conflicting?.map((context): SpanLink => ({ context }));
    let parent = remote ?? null;
    if (policy === 'link' && remote !== undefined) {
      // A new trace that still lets a backend walk back to the caller's (OpenTelemetry "Links" use case).
      links = [{ context: remote }, ...(links ?? [])];
      parent = null;
    }
    // A decision sent without ids (B3 `b3: 0` from a proxy's health check) is the caller's sampling decision
    // for the new trace: offered to the sampler only where the caller's decisions are followed ('continue').
    const callerDecision = remote === undefined && policy === 'continue' ? extracted.sampled : undefined;
    const span = tracer.startSpan(serverSpanName(method, route || undefined), {
      kind: SpanKind.SERVER,
      attributes,
      parent,
      links,
      sampleAsRoot: policy === 'ignore-sampling',
      callerDecision,
      debug: callerDecision === true && extracted.debug === true,
    });
    const callerTraceId = policy === 'link' ? remote?.traceId : undefined;
    const trace = new RequestTrace(
      span,
      extracted.baggage,
      req,
      method,
      this,
      route,
      callerTraceId,
      false,
      into,
    );
    if (span.isRecording() && options.requestHook !== undefined) {
      try {
        options.requestHook(span, req);
      } catch {
        this.countError();
      }
    }
    if (options.traceResponse && !res.headersSent) {
      const sc = span.spanContext();
      // W3C Trace Context Level 2 §traceresponse: version-traceid-childid(=this span)-flags. A tracer that is off
      // made no operation of its own: its span passes on the caller's id, or the all-zero one the grammar forbids.
      if (isSpanContextValid(sc) && sc.spanId !== remote?.spanId) {
        res.setHeader(
          'traceresponse',
          `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`,
        );
      }
    }
    return trace;
  }

  #ignored(req: IncomingMessage, options: ResolvedServerOptions): boolean {
    const patterns = options.ignorePatterns;
    if (patterns.length > 0) {
      const path = pathOf(requestTarget(req));
      for (const pattern of patterns) {
        pattern.lastIndex = 0;
        if (pattern.test(path)) return true;
      }
    }
    if (options.ignorePredicate === undefined) return false;
    try {
      return options.ignorePredicate(req) === true;
    } catch {
      this.countError();
      return false;
    }
  }
}

/**
 * A request's context to enter before its trace starts, where a framework runs part of each request outside the
 * middleware that starts the trace (Koa sends the response from a `.then` its `handleRequest` attaches, after the
 * middleware chain). It holds no span until `start`, given it as the active context, fills it in with the trace;
 * from then on code anywhere in it sees the request's span and baggage, and the middleware's own `runInContext`
 * of the trace's context enters nothing new (each `AsyncLocalStorage.run` with another value copies the async
 * context frame twice on Node 24, about 2 500 instructions).
 */
export function openRequestContext(): TraceContext {
  return new RequestContext();
}

/** Validates `options` once (TypeError/RangeError naming the option); call once per app, at registration. */
export function createServerTracing(options?: ServerTracingOptions): ServerTracing {
  return new ServerTracing(options);
}
