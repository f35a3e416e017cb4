import diagnosticsChannel from 'node:diagnostics_channel';
import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import type { CarrierSetter } from '@tracewire/core';
import { carriesActiveTrace, keepingClientSpanHeaders } from './outgoing-forwarded.js';
import { carriedTrace, type HeaderRecord, type RawHeaders, withTraceHeaders } from './outgoing-headers.js';
import {
  type CallTarget,
  type ClientCall,
  callChannelHandlers,
  endClientCall,
  injectClientCall,
  type OutgoingState,
  RESPONSE_ABORTED,
  recordResponseStatus,
  startClientCall,
} from './outgoing-span.js';
import { isStandInRequest, watchStandIn } from './outgoing-stand-in.js';
import { schemePort, splitAuthority, stripBrackets } from './outgoing-url.js';
import { type NestingGuard, type PreparedCall, type TracedRuns, wrapInPlace } from './outgoing-wrap.js';

/**
 * How `node:http`/`node:https` calls are reached: wrapping `request`/`get`, Node's `created` channel, or both (the
 * wrapper for calls through `request`/`get`, the channel for requests made any other way).
 */
export type HttpInstrumentationMode = 'wrap' | 'channel' | 'both';

type TracedRequest = ClientRequest & { [kCall]?: ClientCall };
type RequestOptions = Record<string, unknown> & { headers?: OutgoingHttpHeaders | RawHeaders | HeaderRecord };

const kCall = Symbol('tracewire.httpCall');

// Node publishes `http.client.request.created` from the ClientRequest constructor, before any header is stored,
// since 22.12 / 23.2. Earlier versions only have `http.client.request.start`, which fires after the headers went
// out (setHeader there throws ERR_HTTP_HEADERS_SENT), so `request`/`get` are wrapped instead.
export function nodeHasCreatedChannel(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 2) || (major === 22 && minor >= 12);
}

/**
 * Whether a ClientRequest keeps the authority (host and port) it connects to, under Node's private `kAuthority`
 * (added by nodejs/node#64311: Node 24.21 has it, 22.23 does not). Without it, a request seen on the `created`
 * channel does not tell its port when the caller set the Host header (virtual hosting) or sent none, so the
 * destination rules would judge, and the span record, the default port. Read from the constructor's source, which
 * Node keeps for its built-ins: the alternative, building a request to look, would announce it to every other
 * subscriber of the channel. Should Node move the assignment elsewhere, this says false and calls are wrapped,
 * which is correct on every version.
 */
export function clientRequestStoresAuthority(
  constructorSource: string = String(http.ClientRequest),
): boolean {
  return constructorSource.includes('this[kAuthority] =');
}

/** The channel alone where it tells the port; else wrapping, with the channel (when there is one) as a backstop. */
export function defaultHttpMode(): HttpInstrumentationMode {
  if (!nodeHasCreatedChannel()) return 'wrap';
  return clientRequestStoresAuthority() ? 'channel' : 'both';
}

// Set while a wrapper runs the original synchronously: a library that routes `get` through `request`, or a second
// copy of this module wrapping on top, must not start a second span for the same call; nor the `created` channel.
const nesting: NestingGuard = { inside: false };

/** Instruments both modules; returns the function that undoes exactly what was done. */
export function installHttp(
  state: OutgoingState,
  mode: HttpInstrumentationMode = defaultHttpMode(),
  runs: TracedRuns = new Map(),
): () => void {
  const { onResponse, onError } = callChannelHandlers(state, kCall);
  const track = tracker(state);
  const channels: [string, (message: unknown) => void][] = [
    ['http.client.response.finish', onResponse],
    ['http.client.request.error', onError],
  ];

  if (mode !== 'wrap') {
    // A call made through a wrapper reaches this channel while `nesting.inside` is set, and is left to the wrapper.
    const onCreated = (message: unknown): void => {
      const request = (message as { request?: TracedRequest }).request;
      if (request !== undefined) traceCreatedRequest(state, request, track);
    };
    channels.push(['http.client.request.created', onCreated]);
  }
  const undoWrap = mode === 'channel' ? () => {} : wrapModules(state, track, runs);
  for (const [name, handler] of channels) diagnosticsChannel.subscribe(name, handler);
  return () => {
    for (const [name, handler] of channels) diagnosticsChannel.unsubscribe(name, handler);
    undoWrap();
  };
}

function wrapModules(state: OutgoingState, track: Track, runs: TracedRuns): () => void {
  const targets = [
    [http, 'request', 'http:', 'http.request'],
    [http, 'get', 'http:', 'http.get'],
    [https, 'request', 'https:', 'https.request'],
    [https, 'get', 'https:', 'https.get'],
  ] as const;
  const undos = targets.map(([module, name, protocol, targetName]) =>
    wrapInPlace<ClientRequest>(
      module as unknown as Record<string, unknown>,
      name,
      targetName,
      { state, guard: nesting, prepare: (_self, args) => prepareCall(state, args, protocol), track },
      runs,
    ),
  );
  // ESM named imports (`import { request } from 'node:http'`) are copies Node refreshes only on request.
  syncBuiltinESMExports();
  return () => {
    for (const undo of undos) undo();
    syncBuiltinESMExports();
  };
}

/**
 * Reads the call the way Node's ClientRequest does: `(url | string | URL, options?, cb?)` or `(options, cb?)`,
 * options winning over the URL's parts. Returns the arguments to pass on, with the trace headers added to a copy
 * of the options (the caller's object is never mutated).
 */
function prepareCall(
  state: OutgoingState,
  args: unknown[],
  defaultProtocol: string,
): PreparedCall | undefined {
  let url: URL | undefined;
  let options: RequestOptions | undefined;
  let rest: unknown[];
  const [first, second] = args;
  if (typeof first === 'string' || isUrlLike(first)) {
    url = typeof first === 'string' ? new URL(first) : first;
    if (second !== null && typeof second === 'object') options = second as RequestOptions;
    // `(url, cb)` keeps its callback; `(url, undefined, cb)` drops the hole the new options fill.
    rest = typeof second === 'function' ? args.slice(1) : args.slice(2);
  } else if (first !== null && typeof first === 'object') {
    options = first as RequestOptions;
    rest = args.slice(1);
  } else {
    return undefined;
  }
  // Node reads only the options' own enumerable properties (it `Object.assign`s them): so does the copy that
  // carries the trace headers, which the caller's object never sees.
  options = { ...options };

  const headers = options.headers;
  const carried = carriedTrace(state, headers);
  if (carried === 'other') return undefined;

  const target = describeTarget(url, options, defaultProtocol);
  const call = startClientCall(state, target);
  if (call === undefined) return undefined;

  options.headers = withTraceHeaders(state, call, headers, carried === 'forwarded');
  return { call, args: url === undefined ? [options, ...rest] : [url, options, ...rest] };
}

/**
 * What Node's ClientRequest takes for a URL (its internal `isURL`): a `URL`, or any object shaped like one, such
 * as a URL class of another realm or written in JavaScript (whatwg-url). Read as options, such an object's getters
 * were lost in the copy and the call went to `localhost:80`.
 */
function isUrlLike(value: unknown): value is URL {
  if (value instanceof URL) return true;
  if (value === null || typeof value !== 'object') return false;
  const v = value as { href?: unknown; protocol?: unknown; auth?: unknown; path?: unknown };
  return Boolean(v.href && v.protocol && v.auth === undefined && v.path === undefined);
}

function describeTarget(
  url: URL | undefined,
  options: RequestOptions | undefined,
  defaultProtocol: string,
): CallTarget {
  const o = options ?? {};
  const protocol = str(o['protocol']) ?? url?.protocol ?? defaultProtocol;
  // As Node resolves `(url, options)`: the options are merged over the URL's fields, then `hostname || host`, so a
  // URL's hostname beats an options `host` (Node 20/22 connect there; recording `host` judged the destination
  // rules, and named the server, by a host the call never went to).
  const hostname =
    str(o['hostname']) ?? (url ? stripBrackets(url.hostname) : undefined) ?? str(o['host']) ?? 'localhost';
  const defaultPort = num(o['defaultPort']) ?? agentDefaultPort(o['agent']) ?? schemePort(protocol);
  const port = num(o['port']) ?? (url && url.port !== '' ? Number(url.port) : undefined) ?? defaultPort;
  const path = str(o['path']) ?? (url ? `${url.pathname}${url.search}` : '/');
  // ClientRequest upper-cases the method before sending it.
  const method = str(o['method'])?.toUpperCase() ?? 'GET';
  const target: CallTarget = { method, protocol, hostname, port, path };
  const socketPath = o['socketPath'];
  if (typeof socketPath === 'string' && socketPath.length > 0) target.socketPath = socketPath;
  return target;
}

/** Node 22.12+/23.2+: the ClientRequest exists and has not stored its headers yet. */
function traceCreatedRequest(state: OutgoingState, request: TracedRequest, track: Track): void {
  if (nesting.inside || request[kCall] !== undefined) return;
  try {
    let forwarded = false;
    for (const name of state.traceHeaders) if (request.getHeader(name) !== undefined) forwarded = true;
    if (forwarded && !carriesActiveTrace(state, request.getHeaders())) return;
    const protocol = request.protocol ?? 'http:';
    // Node keeps the `socketPath` option on the request; host and port are then its `localhost:80` filler.
    const socketPath = (request as { socketPath?: unknown }).socketPath;
    const isSocketCall = typeof socketPath === 'string' && socketPath.length > 0;
    const target: CallTarget = {
      method: request.method,
      protocol,
      hostname: request.host,
      port: isSocketCall ? 0 : connectPort(request, protocol),
      path: request.path,
    };
    if (isSocketCall) target.socketPath = socketPath;
    const call = startClientCall(state, target);
    if (call === undefined) return;
    // Raw-array headers and `Expect` make the constructor store the header block at once; it is sealed then.
    if (!request.headersSent && (request as unknown as { _header?: unknown })._header == null) {
      if (forwarded) for (const name of state.replacedHeaders) request.removeHeader(name);
      injectClientCall(state, call, request, clientRequestSetter);
    }
    track(request, call);
  } catch {
    state.tracer.stats.instrumentationErrors++;
  }
}

type Track = (request: TracedRequest, call: ClientCall) => void;

/** What follows a traced request: its end, and trace headers written onto it after it was made (outgoing-forwarded.ts). */
function tracker(state: OutgoingState): Track {
  const setHeader = keepingClientSpanHeaders(state);
  return (request, call) => {
    request[kCall] = call;
    request.once('close', onRequestClose);
    // Also where nothing is propagated: to a destination the rules exclude, a header of the active trace written
    // later (superagent's .set, a forwarded header set by hand) must not send our ids either.
    request.setHeader = setHeader;
    if (isStandInRequest(request)) watchStandIn(request, call);
  };
}

/**
 * `close` is the one event every ClientRequest emits last: after the response ended, or when the request
 * failed or was aborted. Listening to it, unlike `response` or `error`, changes nothing for the app (a
 * `response` listener stops Node from dumping an unread body; an `error` listener swallows the crash).
 */
function onRequestClose(this: TracedRequest): void {
  const call = this[kCall];
  if (call === undefined || call.ended) return;
  try {
    const response = (this as { res?: IncomingMessage | null }).res;
    // An upgrade (WebSocket) or CONNECT answer hands the socket over without Node's response events: its status
    // is read here, from the response Node keeps on the request.
    if (response != null && call.statusCode === 0 && typeof response.statusCode === 'number') {
      recordResponseStatus(call, response.statusCode);
    }
    endClientCall(call, response != null && !response.complete ? RESPONSE_ABORTED : undefined);
  } catch {
    call.stats.instrumentationErrors++;
  }
}

const clientRequestSetter: CarrierSetter<ClientRequest> = {
  set(request, key, value) {
    if (request.getHeader(key) === undefined) request.setHeader(key, value);
  },
};

// The ClientRequest keeps no public port. Recent Node stores the authority it connects to (host, and the port
// when not the default) under a private `kAuthority` symbol; looked up once, as the Node version never changes.
let authoritySymbol: symbol | null | undefined;

/**
 * The port a request announced on the `created` channel connects to. Without Node's stored authority, the Host
 * header is trusted only when it names the host the request connects to: a Host the caller set for virtual hosting
 * (`api.example.com` while connecting to 127.0.0.1:8080) says nothing about the port, and reading it made the
 * destination rules judge, and the span record, a port the call never went to.
 */
function connectPort(request: ClientRequest, protocol: string): number {
  if (authoritySymbol === undefined) {
    authoritySymbol =
      Object.getOwnPropertySymbols(request).find((s) => s.description === 'kAuthority') ?? null;
  }
  // Node leaves the port out of both when it equals the default, which the options' `defaultPort`, else the
  // agent's, sets; only the agent's is still reachable here.
  const fallback = agentDefaultPort((request as { agent?: unknown }).agent) ?? schemePort(protocol);
  if (authoritySymbol !== null) {
    const authority = (request as unknown as Record<symbol, unknown>)[authoritySymbol];
    if (typeof authority === 'string') return portOf(authority, fallback);
  }
  const hostHeader = request.getHeader('host');
  if (typeof hostHeader === 'string' && sameHost(hostHeader, request.host))
    return portOf(hostHeader, fallback);
  return fallback;
}

/** A custom agent's `defaultPort`; `agent: false` and a missing agent have none. */
function agentDefaultPort(agent: unknown): number | undefined {
  return agent !== null && typeof agent === 'object'
    ? num((agent as { defaultPort?: unknown }).defaultPort)
    : undefined;
}

/** Whether the host part of `authority` (`name`, `name:port`, `[v6]:port`) is `host`, ignoring case and brackets. */
function sameHost(authority: string, host: string): boolean {
  const name = stripBrackets(splitAuthority(authority).host);
  const bare = stripBrackets(host);
  return name.length === bare.length && name.toLowerCase() === bare.toLowerCase();
}

function portOf(authority: string, fallback: number): number {
  return splitAuthority(authority).port ?? fallback;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string' && value.length > 0) {
    const n = Number(value);
    if (Number.isInteger(n) && n > 0) return n;
  }
  return undefined;
}
