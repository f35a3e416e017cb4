import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { peerOf } from './socket-peer.js';
import type { Attributes } from './span-data.js';
import type { UrlRedactor } from './url-redaction.js';

/** Span name per semconv: `{method} {http.route}`, `{method}` without a route, `HTTP` for `_OTHER`. */
export function serverSpanName(method: string, route: string | undefined): string {
  const name = method === '_OTHER' ? 'HTTP' : method;
  if (route === undefined) return name;
  const named = namesByRoute.get(route);
  if (named !== undefined && named.method === name) return named.name;
  // Bounded: routes are an app's templates, but a full cache starts over rather than grow.
  if (namesByRoute.size >= MAX_NAMED_ROUTES) namesByRoute.clear();
  const joined = `${name} ${route}`;
  namesByRoute.set(route, { method: name, name: joined });
  return joined;
}

/**
 * The last name made per route. A joined name is a rope that every span's encoder flattened again (a copy and
 * about 500 instructions per span); one kept is flattened once. Most routes answer one method.
 */
const namesByRoute = new Map<string, { method: string; name: string }>();
const MAX_NAMED_ROUTES = 1024;

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The first entry of a comma list a proxy chain appended to (`client, proxy1, proxy2`). */
function firstValue(value: string | string[] | undefined): string | undefined {
  const text = firstHeader(value);
  if (!text) return undefined;
  const comma = text.indexOf(',');
  const first = (comma === -1 ? text : text.slice(0, comma)).trim();
  return first.length > 0 ? first : undefined;
}

/** The attributes known when the request arrives, so samplers see them. */
export function requestAttributes(
  req: IncomingMessage,
  headers: IncomingHttpHeaders,
  method: string,
  redactor: UrlRedactor,
  attributes: Attributes,
): void {
  attributes['http.request.method'] = method;
  if (method === '_OTHER' || method !== req.method)
    attributes['http.request.method_original'] = req.method ?? '';

  const target = requestTarget(req);
  const start = pathStart(target);
  const q = target.indexOf('?', start);
  attributes['url.path'] = redactor.path(pathOf(target, start, q));
  if (q !== -1 && q + 1 < target.length) attributes['url.query'] = redactor.query(target.slice(q + 1));

  // Semconv (url.scheme, server.address, client.address on server spans): what the original client used, when a
  // proxy says so, Forwarded (RFC 7239) first, then X-Forwarded-*.
  const forwarded = firstHeader(headers.forwarded);
  const forwardedProto = (
    forwardedParameter(forwarded, 'proto') ?? firstValue(headers['x-forwarded-proto'])
  )?.toLowerCase();
  const encrypted = (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  const scheme =
    forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : encrypted ? 'https' : 'http';
  attributes['url.scheme'] = scheme;

  // HTTP/2 carries the authority in :authority; HTTP/1.1 in Host (RFC 9110 §7.2).
  const host =
    forwardedParameter(forwarded, 'host') ??
    firstValue(headers['x-forwarded-host']) ??
    firstHeader(headers[':authority']) ??
    // RFC 9112 §3.2.2: with an absolute-form target the server ignores Host and uses the target's authority.
    (start > 0 ? absoluteAuthority(target, start) : undefined) ??
    headers.host;
  if (host) setServerAddress(host, scheme, attributes);

  // client.address: the client behind proxies when they say so (semconv), else the peer.
  const forwardedFor = firstValue(headers['x-forwarded-for']);
  const client =
    forwardedClient(forwarded) ?? (forwardedFor === undefined ? undefined : nodeAddress(forwardedFor));
  const peer = peerOf(req.socket);
  if (client) attributes['client.address'] = client;
  else if (peer) attributes['client.address'] = peer.address;
  // Semconv network.peer.*: the immediate peer (a proxy, when there is one), whatever the headers say.
  if (peer) {
    attributes['network.peer.address'] = peer.address;
    if (peer.port !== undefined) attributes['network.peer.port'] = peer.port;
  }

  const version = req.httpVersion;
  // Node reports HTTP/2 as "2.0"; the protocol has no minor version, and the semantic conventions write it "2".
  if (version) attributes['network.protocol.version'] = version === '2.0' ? '2' : version;
  const userAgent = headers['user-agent'];
  if (userAgent) attributes['user_agent.original'] = userAgent;
}

/** What the client asked for: Express rewrites `req.url` inside mounted routers, `originalUrl` keeps it. */
export function requestTarget(req: IncomingMessage): string {
  return (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
}

/**
 * Where the path starts in a request target: 0 in origin-form (`/users/1?x=1`); after `scheme://authority` in
 * absolute-form (`http://host/users/1`), which servers MUST accept (RFC 9112 §3.2.2) and the frameworks route.
 */
export function pathStart(target: string): number {
  if (target.charCodeAt(0) === 47 /* / */) return 0;
  const scheme = target.indexOf('://');
  if (scheme === -1) return 0;
  let i = scheme + 3;
  while (i < target.length) {
    const c = target.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */) break;
    i++;
  }
  return i;
}

/** The target's path (semconv `url.path`): no authority, no query; `/` when an absolute-form target has none. */
export function pathOf(
  target: string,
  start = pathStart(target),
  query = target.indexOf('?', start),
): string {
  if (start === 0) return query === -1 ? target : target.slice(0, query);
  const path = query === -1 ? target.slice(start) : target.slice(start, query);
  return path.length > 0 ? path : '/';
}

/** `host[:port]` of an absolute-form target, any userinfo left out. */
function absoluteAuthority(target: string, start: number): string | undefined {
  const authority = target.slice(target.indexOf('://') + 3, start);
  const at = authority.lastIndexOf('@');
  const host = at === -1 ? authority : authority.slice(at + 1);
  return host.length > 0 ? host : undefined;
}

function setServerAddress(host: string, scheme: string, attributes: Attributes): void {
  let address = host;
  let port: number | undefined;
  const close = host.charCodeAt(0) === 91 /* [ */ ? host.indexOf(']') : -1;
  const colon = host.indexOf(':', close === -1 ? 0 : close);
  if (colon !== -1) {
    address = host.slice(close === -1 ? 0 : 1, close === -1 ? colon : close);
    port = portNumber(host, colon + 1);
  } else if (close !== -1) {
    address = host.slice(1, close);
  }
  attributes['server.address'] = address;
  attributes['server.port'] = port ?? (scheme === 'https' ? 443 : 80);
}

/**
 * RFC 3986 `port = *DIGIT` from `start` to the end of `text`, when it is 1-65535. Read digit by digit: `Number()` of
 * a slice cost a string and a conversion per request, and accepted `0x50`, `1e3` and spaces.
 */
function portNumber(text: string, start: number): number | undefined {
  const length = text.length;
  let port = 0;
  for (let i = start; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    port = port * 10 + digit;
    if (port > 65535) return undefined;
  }
  return port > 0 ? port : undefined;
}

/**
 * A parameter (`for`, `proto`, `host`) of the first element of a `Forwarded` header (RFC 7239 §4): the one the
 * proxy nearest the client wrote. Parameter names are case-insensitive; a quoted-string value is unquoted.
 */
function forwardedParameter(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const length = header.length;
  let i = 0;
  while (i < length) {
    const c = header.charCodeAt(i);
    if (c === 32 /* space */ || c === 9 /* tab */ || c === 59 /* ; */) {
      i++;
      continue;
    }
    if (c === 44 /* , */) return undefined;
    let end = i;
    while (end < length && !endsPair(header.charCodeAt(end))) end++;
    if (header.charCodeAt(end) !== 61 /* = */) return undefined;
    const matches = end - i === name.length && header.slice(i, end).toLowerCase() === name;
    i = end + 1;
    let value: string;
    if (header.charCodeAt(i) === 34 /* " */) {
      end = i + 1;
      let escaped = false;
      while (end < length && header.charCodeAt(end) !== 34) {
        if (header.charCodeAt(end) === 92 /* \ */) {
          escaped = true;
          end++;
        }
        end++;
      }
      value = header.slice(i + 1, Math.min(end, length));
      if (escaped) value = value.replace(/\\(.)/g, '$1');
      i = end + 1;
    } else {
      end = i;
      while (end < length && !endsPair(header.charCodeAt(end))) end++;
      value = header.slice(i, end).trim();
      i = end;
    }
    if (matches) return value.length > 0 ? value : undefined;
  }
  return undefined;
}

/** `=` ends a parameter's name, `;` a pair, `,` the element. */
function endsPair(c: number): boolean {
  return c === 61 || c === 59 || c === 44;
}

/** The first `for=` of `Forwarded` as an address. */
function forwardedClient(header: string | undefined): string | undefined {
  const node = forwardedParameter(header, 'for');
  return node === undefined ? undefined : nodeAddress(node);
}

/**
 * A proxy's name for a client (RFC 7239 §6, and what proxies append to `X-Forwarded-For`) as the address alone,
 * as `client.address` holds it: brackets and port dropped (`[2001:db8::7]:4431`, `198.51.100.7:5555`, which some
 * proxies write), a bare IPv6 address kept whole; `unknown` and `_obfuscated` names are none.
 */
function nodeAddress(node: string): string | undefined {
  if (node.length === 0 || node.charCodeAt(0) === 95 /* _ */ || node.toLowerCase() === 'unknown')
    return undefined;
  if (node.charCodeAt(0) === 91 /* [ */) {
    const close = node.indexOf(']');
    return close > 1 ? node.slice(1, close) : undefined;
  }
  const colon = node.indexOf(':');
  // One colon is a port after an IPv4 address or a name; more are an IPv6 address's own.
  return colon === -1 || node.indexOf(':', colon + 1) !== -1 ? node : node.slice(0, colon);
}
