import type { Destination } from './outgoing-options.js';
import { originFormPath, schemeOf } from './outgoing-url.js';
import type { Attributes } from './span-data.js';
import type { UrlRedactor } from './url-redaction.js';

// Node's `socketPath` is a Unix domain socket, except on Windows, where libuv opens it as a named pipe
// (`\\.\pipe\docker_engine`). The semantic conventions name both transports: `unix` and `pipe`.
const transport = process.platform === 'win32' ? 'pipe' : 'unix';
const urlScheme = process.platform === 'win32' ? 'npipe' : 'unix';

/**
 * Records a call over a local socket (`http.request({ socketPath })`, how Docker and most local daemons are
 * called) and returns the destination the propagation rules judge. Such a call has no host and no port: Node
 * still sends `Host: localhost`, but nothing goes to localhost:80.
 *
 * HTTP semantic conventions (client span): `server.address` is the "server domain name if available without
 * reverse DNS lookup; otherwise, IP address or Unix domain socket name", and `network.peer.address` the "IP
 * address or Unix domain socket name" of the connection; `network.transport` is `unix` (or `pipe`). There is no
 * port to give `server.port`, so it is left out rather than filled with the 80 Node never connects to.
 * `url.full` is the `http+unix://<percent-encoded socket path>/path` form other HTTP clients use for such
 * calls, an absolute URL that names the socket and that no TCP destination rule can mistake for localhost.
 */
export function recordSocketCall(
  redactor: UrlRedactor,
  protocol: string,
  socketPath: string,
  path: string,
  attributes: Attributes,
): Destination {
  const url = redactor.url(
    `${schemeOf(protocol)}+${urlScheme}://${encodeURIComponent(socketPath)}${originFormPath(path)}`,
  );
  attributes['url.full'] = url;
  attributes['server.address'] = socketPath;
  attributes['network.peer.address'] = socketPath;
  attributes['network.transport'] = transport;
  return { hostname: '', port: 0, socketPath, url };
}
