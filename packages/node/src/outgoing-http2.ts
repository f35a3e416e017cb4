import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { Duplex } from 'node:stream';
import { defaultGetter } from '@tracewire/core';
import { builtinShared } from './builtin-shared.js';
import { lowercasePairs } from './outgoing-forwarded.js';
import { grpcCallOf, readGrpcStatus, statusFromReset } from './outgoing-grpc.js';
import { carriedTrace, type HeaderRecord, withTraceHeaders } from './outgoing-headers.js';
import {
  type CallTarget,
  type ClientCall,
  endClientCall,
  type OutgoingState,
  RESPONSE_ABORTED,
  recordPeer,
  recordResponseStatus,
  startClientCall,
} from './outgoing-span.js';
import { schemePort, splitAuthority, stripBrackets } from './outgoing-url.js';
import {
  type CallTracing,
  type NestingGuard,
  type PreparedCall,
  type TracedRuns,
  wrapInPlace,
} from './outgoing-wrap.js';
import type { PeerSocket } from './socket-peer.js';

type TracedStream = ClientHttp2Stream & { [kCall]?: ClientCall; [kBodyEnd]?: 'whole' | 'cut' };

const kCall = Symbol('tracewire.http2Call');
const kBodyEnd = Symbol('tracewire.http2BodyEnd');

/**
 * Traces `node:http2` client streams, and with them gRPC (`@grpc/grpc-js`) and got's `http2: true`. Node has no
 * hook that can still add a header: `request()` serializes the headers before its `http2.client.stream.created`
 * channel (Node 22+) fires, and Node 20 has no such channel. So `ClientHttp2Session.prototype.request` is wrapped,
 * which reaches sessions opened before `configure()` as well. A library that copies `request` onto each session it
 * opens (got's http2-wrapper does) is reached for sessions it opens afterwards. Returns the undo function.
 */
export function installHttp2(state: OutgoingState, runs: TracedRuns = new Map()): () => void {
  builtinShared.http2SessionPrototype ??= clientSessionPrototype() ?? null;
  const prototype = builtinShared.http2SessionPrototype;
  if (prototype === null) return () => {};
  const tracing: CallTracing<ClientHttp2Stream> = {
    state,
    guard: nesting,
    prepare: (session, [headers, options]) =>
      prepareStream(state, session as ClientHttp2Session, headers, options),
    track: (stream, call) => track(stream as TracedStream, call),
  };
  return wrapInPlace(prototype, 'request', TARGET, tracing, runs);
}

const TARGET = 'http2.ClientHttp2Session.request';

/**
 * `ClientHttp2Session` is not exported: its prototype is read from a session over a socket that goes nowhere,
 * destroyed at once. Nothing is sent; no connection is opened. Once per process: under Jest every test file
 * installs again, and each probe's session kept that file's module graph reachable for a while.
 */
function clientSessionPrototype(): { request: unknown } | undefined {
  const socket = new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  try {
    const session = http2.connect('http://tracewire.invalid', { createConnection: () => socket });
    session.on('error', () => {});
    session.destroy();
    return Object.getPrototypeOf(session) as { request: unknown };
  } catch {
    return undefined;
  } finally {
    socket.destroy();
  }
}

// Set while the wrapper runs the original: a second copy of this module wrapping on top must not trace it twice.
const nesting: NestingGuard = { inside: false };

function prepareStream(
  state: OutgoingState,
  session: ClientHttp2Session,
  headers: unknown,
  options: unknown,
): PreparedCall | undefined {
  if (headers != null && typeof headers !== 'object') return undefined;
  // undici's own streams are recorded through its channels; checked first, before any header is read.
  if (isUndiciSession(session)) return undefined;
  const raw = Array.isArray(headers);
  const named = (raw ? lowercasePairs(headers as unknown[]) : (headers ?? {})) as HeaderRecord;
  const method = typeof named[':method'] === 'string' ? named[':method'] : 'GET';
  // A CONNECT opens a tunnel to its :authority and has no :path; the HTTP/1 layers record those as the proxy's.
  if (method.toUpperCase() === 'CONNECT') return undefined;

  const carried = carriedTrace(state, headers);
  if (carried === 'other') return undefined;

  const path = typeof named[':path'] === 'string' ? named[':path'] : '/';
  const target: CallTarget = { method, path, ...sessionOrigin(session), protocolVersion: '2' };
  const grpc = grpcCallOf(
    defaultGetter.get(named, 'content-type'),
    path,
    defaultGetter.get(named, 'grpc-timeout'),
  );
  if (grpc !== undefined) target.grpc = grpc;
  const call = startClientCall(state, target);
  if (call === undefined) return undefined;
  return {
    call,
    args: [withTraceHeaders(state, call, headers as object | undefined, carried === 'forwarded'), options],
  };
}

/**
 * Whether undici opened the session (`allowH2`): its calls are recorded already, through its own channels
 * (outgoing-fetch.ts), and recording their streams again made a second span, left open until the client closed.
 * undici 5 to 7 keep their client on the session under a `client` symbol; looked up once per session.
 */
function isUndiciSession(session: ClientHttp2Session): boolean {
  const marked = session as ClientHttp2Session & { [kUndiciSession]?: boolean };
  let undici = marked[kUndiciSession];
  if (undici === undefined) {
    undici = false;
    for (const symbol of Object.getOwnPropertySymbols(session)) {
      if (symbol.description !== 'client') continue;
      const client = (session as unknown as Record<symbol, { dispatch?: unknown } | undefined>)[symbol];
      if (typeof client?.dispatch === 'function') undici = true;
    }
    marked[kUndiciSession] = undici;
  }
  return undici;
}

const kUndiciSession = Symbol('tracewire.undiciSession');

// Node keeps where a session connects under private symbols (`authority` = `host:port`, `protocol` =
// `http:`/`https:`), which it fills in as `:authority` and `:scheme`; looked up once, the Node version never changes.
let originSymbols: { authority: symbol; protocol: symbol } | null | undefined;

/** Where the session connects: the host it was opened to (or its TLS servername) and the port. */
function sessionOrigin(session: ClientHttp2Session): Pick<CallTarget, 'protocol' | 'hostname' | 'port'> {
  if (originSymbols === undefined) {
    const symbols = Object.getOwnPropertySymbols(session);
    const authority = symbols.find((s) => s.description === 'authority');
    const protocol = symbols.find((s) => s.description === 'protocol');
    originSymbols = authority && protocol ? { authority, protocol } : null;
  }
  const fields = session as unknown as Record<symbol, unknown>;
  const protocol = originSymbols !== null ? fields[originSymbols.protocol] : undefined;
  const scheme = typeof protocol === 'string' ? protocol : session.encrypted ? 'https:' : 'http:';
  const authority = originSymbols !== null ? fields[originSymbols.authority] : undefined;
  if (typeof authority === 'string') {
    const { host, port } = splitAuthority(authority);
    if (host.length > 0 && port !== undefined)
      return { protocol: scheme, hostname: stripBrackets(host), port };
  }
  const socket = session.socket as { remoteAddress?: string; remotePort?: number } | undefined;
  return {
    protocol: scheme,
    hostname: socket?.remoteAddress ?? 'localhost',
    port: socket?.remotePort ?? schemePort(scheme),
  };
}

function track(stream: TracedStream, call: ClientCall): void {
  stream[kCall] = call;
  stream.once('response', onResponse);
  if (call.grpc !== undefined) stream.once('trailers', onTrailers);
  // An 'end' listener leaves the stream's flow as it is: it only says how the response's body ended.
  else stream.once('end', onEnd);
  // Not 'error': a listener there would swallow an error the app relies on seeing. `close` comes last either way.
  stream.once('close', onClose);
}

function onResponse(this: TracedStream, headers: Record<string, unknown>): void {
  const call = this[kCall];
  if (call === undefined) return;
  try {
    const status = headers[':status'];
    if (typeof status === 'number') recordResponseStatus(call, status);
    recordPeer(call, this.session?.socket as PeerSocket | undefined);
    // A "Trailers-Only" answer (a gRPC error before any message) carries grpc-status in its headers.
    if (call.grpc !== undefined) readGrpcStatus(call.grpc, headers);
  } catch {
    call.stats.instrumentationErrors++;
  }
}

function onTrailers(this: TracedStream, trailers: Record<string, unknown>): void {
  const call = this[kCall];
  if (call?.grpc === undefined) return;
  try {
    readGrpcStatus(call.grpc, trailers);
  } catch {
    call.stats.instrumentationErrors++;
  }
}

// A body read to its end emits 'end' while the stream is still open; one the client cut off (destroy, a CANCEL
// reset, the session destroyed) emits it only once the stream is destroyed.
function onEnd(this: TracedStream): void {
  this[kBodyEnd] = this.destroyed ? 'cut' : 'whole';
}

/** After the response ended, or when the stream was reset, destroyed or its session went away. */
function onClose(this: TracedStream): void {
  const call = this[kCall];
  if (call === undefined || call.ended) return;
  // A stream destroyed with an error keeps it here; `errored` is null otherwise.
  const error = (this as { errored?: unknown }).errored ?? undefined;
  const rstCode = (this as { rstCode?: number }).rstCode;
  if (call.grpc !== undefined && typeof rstCode === 'number') statusFromReset(call.grpc, rstCode);
  if (error === undefined && call.grpc === undefined && call.statusCode !== 0 && responseCut(this, rstCode)) {
    // As over HTTP/1.1: a response closed before its body completed is an abort, not a success.
    endClientCall(call, RESPONSE_ABORTED);
    return;
  }
  endClientCall(call, error);
}

/** Whether the response's body was cut off: ended only by the stream's destruction, or reset with an error code. */
function responseCut(stream: TracedStream, rstCode: number | undefined): boolean {
  const end = stream[kBodyEnd];
  if (end !== undefined) return end === 'cut';
  // Never read (no 'end' at all): only a reset with an error code (CANCEL from close()) says the body was cut.
  return typeof rstCode === 'number' && rstCode !== http2.constants.NGHTTP2_NO_ERROR;
}
