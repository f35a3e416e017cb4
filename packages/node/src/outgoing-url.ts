// How a client call's URL is written, one way for every path a call takes (plain TCP, socket, proxy, fetch).

/** `http:` → `http`; a protocol already without its colon is kept. */
export function schemeOf(protocol: string): string {
  return protocol.endsWith(':') ? protocol.slice(0, -1) : protocol;
}

/** The port a protocol (`https:`, `http:`) implies when none is given. */
export function schemePort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

/**
 * `host[:port]` split at the port's colon; an IPv6 host in brackets keeps them, one without (Node's own
 * `host:port` strings) is split at its last colon. `port` is undefined when there is none, or it is no positive
 * integer.
 */
export function splitAuthority(authority: string): { host: string; port: number | undefined } {
  // One pass from the end instead of two `lastIndexOf` calls, each a call into V8's runtime (~430 instructions
  // on every `fetch`): a `]` met before any colon closes an IPv6 host that has no port.
  let colon = authority.length - 1;
  for (; colon >= 0; colon--) {
    const c = authority.charCodeAt(colon);
    if (c === 58 /* : */) break;
    if (c === 93 /* ] */) return { host: authority, port: undefined };
  }
  if (colon === -1) return { host: authority, port: undefined };
  const port = Number(authority.slice(colon + 1));
  return { host: authority.slice(0, colon), port: Number.isInteger(port) && port > 0 ? port : undefined };
}

/** An IPv6 host without its brackets (`[::1]` → `::1`); any other host as it is. */
export function stripBrackets(host: string): string {
  return host.charCodeAt(0) === 91 /* [ */ && host.charCodeAt(host.length - 1) === 93
    ? host.slice(1, -1)
    : host;
}

/** The path and query as written after the authority: `/` for none, a leading `/` added when missing. */
export function originFormPath(path: string): string {
  return path.length === 0 ? '/' : path.charCodeAt(0) === 47 /* / */ ? path : `/${path}`;
}

/** `scheme://host[:port]/path`, the port left out when it is the scheme's own, IPv6 hosts in brackets. */
export function formatUrl(protocol: string, hostname: string, port: number, path: string): string {
  const scheme = schemeOf(protocol);
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  const authority = port === schemePort(`${scheme}:`) ? host : `${host}:${port}`;
  return `${scheme}://${authority}${originFormPath(path)}`;
}
