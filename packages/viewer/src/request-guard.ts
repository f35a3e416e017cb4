import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What keeps a web page the developer happens to open from reaching the viewer through their browser. The
 * viewer listens on the developer's own machine and its ports are well known (4318, 9411, 16686), so:
 * - DNS rebinding: a page on `attacker.example` whose name is made to resolve to 127.0.0.1 reads the API (every
 *   stored attribute, header and SQL statement) as its own origin. The `Host` it sends still names its own site, so
 *   on a loopback address only loopback names are answered.
 * - Cross-site writes: a page may POST to a receiver without a preflight (a Zipkin body sent with no Content-Type
 *   is a CORS "simple request"), inserting spans and, past `maxSpans`, getting real traces deleted. Exporters never
 *   send `Origin`; browsers do on every cross-origin POST, so a receiver refuses any request that has one.
 */
export interface RequestGuard {
  /** Whether the `Host` header names this viewer; false answers 421 (rebinding). */
  hostAllowed(req: IncomingMessage): boolean;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

export function requestGuard(boundHost: string): RequestGuard {
  const bound = bare(boundHost.toLowerCase());
  // Listening on every interface (containers, other machines): the names it is reached by are not known here.
  const anyName = bound === '0.0.0.0' || bound === '::';
  return {
    hostAllowed(req) {
      if (anyName) return true;
      const header = req.headers.host;
      if (header === undefined) return true; // HTTP/1.0: no browser sends a request without Host.
      const name = hostnameOf(header.toLowerCase());
      return name === bound || LOOPBACK_NAMES.has(name) || name.endsWith('.localhost');
    },
  };
}

/** A request a browser sent on behalf of a page: it carries `Origin` (every cross-origin POST does). */
export function fromBrowserPage(req: IncomingMessage): boolean {
  return req.headers.origin !== undefined;
}

/** Headers every answer carries: no sniffing a JSON or text answer into script or HTML. */
export const COMMON_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

/** The page's own: its files only (no inline script or style), never framed by another page. */
export const PAGE_HEADERS = {
  ...COMMON_HEADERS,
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

export function refuseMisdirected(res: ServerResponse): void {
  const body = 'this viewer answers only to localhost, 127.0.0.1, [::1] or the host it was started on\n';
  res
    .writeHead(421, {
      ...COMMON_HEADERS,
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    })
    .end(body);
}

/** `host[:port]` → host, brackets off an IPv6 literal. */
function hostnameOf(authority: string): string {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close === -1 ? authority : authority.slice(1, close);
  }
  const colon = authority.indexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}

function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
