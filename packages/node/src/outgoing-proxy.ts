// A call through an HTTP proxy names its real target in the request line, not in the host it is sent to.
import type { Destination } from './outgoing-options.js';
import { schemeOf, schemePort, stripBrackets } from './outgoing-url.js';
import type { Attributes } from './span-data.js';
import type { UrlRedactor } from './url-redaction.js';

// Digits only: `Number()` alone would also take ` 443`, `0x1bb` and `4e2`.
const PORT = /^[0-9]{1,5}$/;
// Whatever would make the host part more than a host: a path, query, fragment, userinfo or whitespace.
const NOT_A_HOST = /[\s/?#@[\]]/;
const ABSOLUTE_HTTP_URL = /^https?:\/\//i;

/**
 * Records the tunnel a CONNECT opens, when its request-target is in authority-form (`example.com:443`, RFC 9112
 * §3.2.3, where the port is required); false, recording nothing, for any other target. The request-target is
 * the URI origin the request is for (RFC 9110 §9.3.6), so, as OpenTelemetry's own http instrumentation does,
 * `server.address`/`server.port` are the target's and `url.full` is `scheme://host:port`, with the port always
 * written as the target gives it. The proxy the request is sent to is the connection's peer: `network.peer.*`.
 */
export function recordTunnelTarget(
  protocol: string,
  target: string,
  proxyHostname: string,
  proxyPort: number,
  attributes: Attributes,
): boolean {
  const colon = target.lastIndexOf(':');
  if (colon <= 0 || !PORT.test(target.slice(colon + 1))) return false;
  const port = Number(target.slice(colon + 1));
  let host = target.slice(0, colon);
  const bracketed = host.charCodeAt(0) === 91 /* [ */;
  if (bracketed) {
    if (host.charCodeAt(host.length - 1) !== 93 /* ] */) return false;
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    return false;
  }
  if (port === 0 || port > 65535 || host.length === 0 || NOT_A_HOST.test(host)) return false;

  const hostname = host.toLowerCase();
  attributes['url.full'] = `${schemeOf(protocol)}://${bracketed ? `[${hostname}]` : hostname}:${port}`;
  attributes['server.address'] = hostname;
  attributes['server.port'] = port;
  attributes['network.peer.address'] = proxyHostname;
  attributes['network.peer.port'] = proxyPort;
  return true;
}

/**
 * Records a request sent to a forward proxy in absolute-form (`GET http://example.com/users/7`, RFC 9112 §3.2.2):
 * how axios and other clients reach an `http:` target through `HTTP_PROXY`, and what Node itself sends under
 * `NODE_USE_ENV_PROXY`. The semantic conventions want the server "behind any intermediaries, for example proxies":
 * `url.full` and `server.*` are the target's, the proxy is the connection's peer. Returns the target as the
 * destination rules judge it (the proxy passes the headers on to it), or undefined, recording nothing, for a path
 * that is not an absolute `http(s)` URL.
 */
export function recordForwardedTarget(
  redactor: UrlRedactor,
  path: string,
  proxyHostname: string,
  proxyPort: number,
  attributes: Attributes,
): Destination | undefined {
  if (!ABSOLUTE_HTTP_URL.test(path) || !URL.canParse(path)) return undefined;
  const target = new URL(path);
  const hostname = stripBrackets(target.hostname);
  const port = target.port === '' ? schemePort(target.protocol) : Number(target.port);
  const url = redactor.url(target.href);
  attributes['url.full'] = url;
  attributes['server.address'] = hostname;
  attributes['server.port'] = port;
  // Under NODE_USE_ENV_PROXY Node keeps the target as the request's host; the proxy it connects to is then unknown.
  if (proxyHostname !== hostname || proxyPort !== port) {
    attributes['network.peer.address'] = proxyHostname;
    attributes['network.peer.port'] = proxyPort;
  }
  return { hostname, port, url };
}
