import { knownHttpMethods } from './http-methods.js';
import { createUrlRedactor, type UrlRedactionOptions, type UrlRedactor } from './url-redaction.js';

/**
 * A destination rule. A string is a host (`api.example.com`), a host and port (`api.example.com:8443`), a
 * wildcard over subdomains (`*.example.com`, not the apex), a Unix socket path when it starts with `/` or `\\`
 * (`/var/run/docker.sock`, matched exactly), or, when it contains `://`, a URL prefix
 * (`https://api.example.com/v2/`). A RegExp is tested against the call's `url.full`.
 */
export type DestinationPattern = string | RegExp;

/** How outgoing `fetch`/undici/`http`/`https` calls are traced. Every field is optional. */
export interface OutgoingOptions extends UrlRedactionOptions {
  /** Trace calls made with no active span as new root traces. Default `false`: nothing is recorded or sent. */
  traceRootCalls?: boolean;
  /** When set, trace headers go only to destinations matching one of these. Default: everywhere. */
  propagateTo?: readonly DestinationPattern[];
  /** Trace headers never go to destinations matching one of these (wins over `propagateTo`). Default: none. */
  doNotPropagateTo?: readonly DestinationPattern[];
}

/** Where a call goes, as the destination rules see it. */
export interface Destination {
  /** Lowercase host name, IPv6 without brackets; empty for a call over a socket path, which has none. */
  readonly hostname: string;
  /** 0 for a call over a socket path. */
  readonly port: number;
  /** The Unix domain socket (or Windows named pipe) a `socketPath` call goes to; undefined for TCP calls. */
  readonly socketPath?: string;
  /**
   * `url.full` as recorded on the span; for a CONNECT, the proxy's origin (`http://proxy:3128/`), since the proxy,
   * not the tunnel's target the span records, is what reads its headers.
   */
  readonly url: string;
}

export interface ResolvedOutgoingOptions {
  readonly traceRootCalls: boolean;
  readonly redactor: UrlRedactor;
  /** `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS`, else the semantic conventions' list. */
  readonly knownMethods: ReadonlySet<string>;
  shouldPropagate(destination: Destination): boolean;
}

type Matcher = (destination: Destination) => boolean;

/** Validates once at install time; throws TypeError/RangeError naming the option. */
export function resolveOutgoingOptions(
  options: OutgoingOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOutgoingOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('instrumentOutgoing options must be an object');
  }
  const traceRootCalls = options.traceRootCalls ?? false;
  if (typeof traceRootCalls !== 'boolean') {
    throw new TypeError(`traceRootCalls must be a boolean; got ${typeof traceRootCalls}`);
  }
  const allow =
    options.propagateTo === undefined ? undefined : compileList('propagateTo', options.propagateTo);
  const deny = compileList('doNotPropagateTo', options.doNotPropagateTo ?? []);
  return {
    traceRootCalls,
    redactor: createUrlRedactor(options),
    knownMethods: knownHttpMethods(env),
    shouldPropagate(destination) {
      if (allow !== undefined && !matchesAny(allow, destination)) return false;
      return !matchesAny(deny, destination);
    },
  };
}

function matchesAny(matchers: readonly Matcher[], destination: Destination): boolean {
  for (const matcher of matchers) if (matcher(destination)) return true;
  return false;
}

function compileList(name: string, list: unknown): Matcher[] {
  if (!Array.isArray(list)) {
    throw new TypeError(`${name} must be an array of host names, URL prefixes or RegExps`);
  }
  return list.map((pattern: unknown) => compilePattern(name, pattern));
}

function compilePattern(name: string, pattern: unknown): Matcher {
  if (pattern instanceof RegExp) {
    return (d) => {
      pattern.lastIndex = 0;
      return pattern.test(d.url);
    };
  }
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new TypeError(
      `${name} entries must be non-empty strings or RegExps; got ${JSON.stringify(pattern)}`,
    );
  }
  // A socket path is case-sensitive and names no host: it matches only calls made over that socket.
  const first = pattern.charCodeAt(0);
  if (first === 47 /* / */ || first === 92 /* \ */) return (d) => d.socketPath === pattern;
  if (pattern.includes('://')) {
    const prefix = withoutRootDotInUrl(pattern.toLowerCase());
    // A prefix that ends in the authority (`http://inventory.internal`, `https://api:8443`) names that host and port
    // only: the URL must go on with its path, query or fragment there (or its port, after a host), not with more
    // host name (`http://inventory.internal.attacker.example`) or port digits.
    const authority = prefix.slice(prefix.indexOf('://') + 3);
    const endsInAuthority = !authority.includes('/');
    const hasPort = /:\d*$/.test(authority);
    return (d) => {
      const url = withoutRootDotInUrl(d.url.toLowerCase());
      if (!url.startsWith(prefix)) return false;
      if (!endsInAuthority || url.length === prefix.length) return true;
      const next = url.charCodeAt(prefix.length);
      return (
        next === 47 /* / */ || next === 63 /* ? */ || next === 35 /* # */ || (next === 58 /* : */ && !hasPort)
      );
    };
  }
  const { host, port } = splitHostPort(name, pattern.toLowerCase());
  const bare = withoutRootDot(host);
  if (bare.startsWith('*.')) {
    const suffix = bare.slice(1);
    return (d) => withoutRootDot(d.hostname).endsWith(suffix) && (port === undefined || d.port === port);
  }
  return (d) => withoutRootDot(d.hostname) === bare && (port === undefined || d.port === port);
}

/**
 * `api.example.com.` (fully qualified, the trailing dot skipping DNS search domains, as Kubernetes setups write it)
 * reaches the same host as `api.example.com`, and must be judged as it.
 */
function withoutRootDot(host: string): string {
  return host.length > 1 && host.charCodeAt(host.length - 1) === 46 /* . */ ? host.slice(0, -1) : host;
}

function withoutRootDotInUrl(url: string): string {
  return url.replace(ROOT_DOT_IN_URL, '$1');
}

const ROOT_DOT_IN_URL = /^([a-z][a-z0-9+.-]*:\/\/[^/?#:[\]]+)\.(?=[:/?#]|$)/;

function splitHostPort(name: string, text: string): { host: string; port: number | undefined } {
  // `[::1]:8080` / `[::1]`; a bare IPv6 address has several colons and no port.
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    const rest = text.slice(close + 1);
    return {
      host: text.slice(1, close),
      port: rest.startsWith(':') ? parsePort(name, rest.slice(1)) : undefined,
    };
  }
  const colon = text.indexOf(':');
  if (colon === -1 || colon !== text.lastIndexOf(':')) return { host: text, port: undefined };
  return { host: text.slice(0, colon), port: parsePort(name, text.slice(colon + 1)) };
}

function parsePort(name: string, text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${name}: port must be 0-65535; got ${JSON.stringify(text)}`);
  }
  return port;
}
