import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingOptions } from '../src/outgoing-options.js';
import { SpanStatusCode } from '../src/span-data.js';
import { parseTraceparent, waitForSpans } from './outgoing-harness.js';
import { httpModes, installHttpMode, type ModeHarness } from './outgoing-http-modes.js';

// Calls through an HTTP proxy. A CONNECT (`http.request({ method: 'CONNECT', host: proxy, port, path:
// 'example.test:443' })`) names the tunnel's destination in authority-form (RFC 9112 §3.2.3); a request forwarded
// by the proxy (`path: 'http://example.test/users/7'`, how axios reaches an http: target through HTTP_PROXY) names
// it in absolute-form (§3.2.2). Neither is a path on the proxy.

let proxy: http.Server;
let proxyPort: number;
const received: { target: string; traceparent: string | undefined }[] = [];
let harness: ModeHarness | undefined;

beforeAll(async () => {
  // Answers forwarded requests itself, as if from the target.
  proxy = http.createServer((req, res) => {
    received.push({ target: req.url ?? '', traceparent: req.headers.traceparent as string | undefined });
    res.end('ok');
  });
  proxy.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
    received.push({ target: req.url ?? '', traceparent: req.headers.traceparent as string | undefined });
    socket.end(
      req.url?.startsWith('forbidden.test')
        ? 'HTTP/1.1 407 Proxy Authentication Required\r\n\r\n'
        : 'HTTP/1.1 200 Connection Established\r\n\r\n',
    );
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as AddressInfo).port;
});
afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise((resolve) => proxy.close(resolve));
});
afterEach(() => {
  harness?.uninstall();
  harness = undefined;
  received.length = 0;
});

type Mode = (typeof httpModes)[number];
type Settle = (req: http.ClientRequest, done: (status: number | undefined) => void) => void;

/** Sends one request under `mode`'s instrumentation; resolves with its status once its span has ended. */
async function traced(
  mode: Mode,
  options: OutgoingOptions | undefined,
  send: () => http.ClientRequest,
  settle: Settle,
) {
  harness?.uninstall();
  harness = installHttpMode(mode, options);
  const h = harness;
  const before = h.spans.length;
  const req = h.send(send);
  const status = await new Promise<number | undefined>((resolve, reject) => {
    settle(req, resolve);
    req.on('error', reject);
    req.end();
  });
  await waitForSpans(h.spans, before + 1);
  return { status, span: h.spans[before] };
}

const onTunnel: Settle = (req, done) =>
  req.on('connect', (res: http.IncomingMessage, socket: Duplex) => {
    socket.destroy();
    done(res.statusCode);
  });

const onResponse: Settle = (req, done) =>
  req.on('response', (res: http.IncomingMessage) => {
    res.resume();
    res.on('end', () => done(res.statusCode));
  });

/** Opens a tunnel to `target` through the proxy. */
function tunnel(mode: Mode, target: string, options?: OutgoingOptions) {
  return traced(
    mode,
    options,
    () => http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: target }),
    onTunnel,
  );
}

describe.each(httpModes)('a CONNECT through a proxy (%s)', (mode) => {
  it('records the tunnel target as url.full and server.*, and the proxy as the network peer', async () => {
    const { status, span } = await tunnel(mode, 'example.test:443');
    expect(status).toBe(200);
    expect(span?.name).toBe('CONNECT');
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'CONNECT',
      'url.full': 'http://example.test:443',
      'server.address': 'example.test',
      'server.port': 443,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': proxyPort,
      'http.response.status_code': 200,
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(received[0]?.target).toBe('example.test:443');
    expect(parseTraceparent(received[0]?.traceparent).spanId).toBe(span?.spanContext().spanId);
  });

  it('writes an IPv6 target in brackets in url.full and without them in server.address', async () => {
    const { span } = await tunnel(mode, '[::1]:8443');
    expect(span?.attributes['url.full']).toBe('http://[::1]:8443');
    expect(span?.attributes['server.address']).toBe('::1');
    expect(span?.attributes['server.port']).toBe(8443);
  });

  it('still reads a refusal from the response Node keeps on the request: 407 is an error', async () => {
    const { status, span } = await tunnel(mode, 'forbidden.test:443');
    expect(status).toBe(407);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('407');
    expect(span?.attributes['url.full']).toBe('http://forbidden.test:443');
  });

  it('is judged by the proxy, which reads its headers, not by the target, which never sees them', async () => {
    await tunnel(mode, 'example.test:443', { doNotPropagateTo: ['example.test', /example\.test/] });
    await tunnel(mode, 'example.test:443', { doNotPropagateTo: [`127.0.0.1:${proxyPort}`] });
    await tunnel(mode, 'example.test:443', { propagateTo: [`http://127.0.0.1:${proxyPort}/`] });
    expect(received.map((r) => r.traceparent !== undefined)).toEqual([true, false, true]);
  });
});

/** Sends `GET <target>` (absolute-form) to the proxy. */
function forward(mode: Mode, target: string, options?: OutgoingOptions) {
  return traced(
    mode,
    options,
    () => http.request({ host: '127.0.0.1', port: proxyPort, path: target }),
    onResponse,
  );
}

describe.each(httpModes)('a request forwarded by a proxy (%s)', (mode) => {
  it('records the target as url.full and server.*, and the proxy as the network peer', async () => {
    const { status, span } = await forward(mode, 'http://Example.test:8080/users/7?q=1');
    expect(status).toBe(200);
    expect(span?.name).toBe('GET');
    expect(span?.attributes).toMatchObject({
      'url.full': 'http://example.test:8080/users/7?q=1',
      'server.address': 'example.test',
      'server.port': 8080,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': proxyPort,
      'http.response.status_code': 200,
    });
    expect(received[0]?.target).toBe('http://Example.test:8080/users/7?q=1');
    expect(parseTraceparent(received[0]?.traceparent).spanId).toBe(span?.spanContext().spanId);
  });

  it("gives the target the default port of the target's scheme, and writes IPv6 without brackets", async () => {
    const { span } = await forward(mode, 'https://example.test/a');
    expect(span?.attributes).toMatchObject({ 'server.address': 'example.test', 'server.port': 443 });
    const { span: v6 } = await forward(mode, 'http://[::1]/b');
    expect(v6?.attributes).toMatchObject({
      'url.full': 'http://[::1]/b',
      'server.address': '::1',
      'server.port': 80,
    });
  });

  it('redacts credentials in the target URL', async () => {
    const { span } = await forward(mode, 'http://user:secret@example.test/c');
    expect(span?.attributes['url.full']).not.toContain('secret');
  });

  it('is judged by the target, to which the proxy passes the headers on', async () => {
    await forward(mode, 'http://example.test/d', { doNotPropagateTo: ['example.test'] });
    await forward(mode, 'http://example.test/d', { doNotPropagateTo: [/^http:\/\/example\.test\//] });
    await forward(mode, 'http://example.test/d', { doNotPropagateTo: [`127.0.0.1:${proxyPort}`] });
    expect(received.map((r) => r.traceparent !== undefined)).toEqual([false, false, true]);
  });

  it('takes the network peer from the connection when the request names the target as its host (NODE_USE_ENV_PROXY)', async () => {
    // Node under NODE_USE_ENV_PROXY keeps the target as the request's host and connects its agent to the proxy.
    const { span } = await traced(
      mode,
      undefined,
      () =>
        http.request({
          host: 'example.test',
          path: 'http://example.test/f',
          createConnection: () => net.connect(proxyPort, '127.0.0.1'),
        }),
      onResponse,
    );
    expect(span?.attributes).toMatchObject({
      'url.full': 'http://example.test/f',
      'server.address': 'example.test',
      'server.port': 80,
    });
    expect(span?.attributes).toMatchObject({
      'network.peer.address': '127.0.0.1',
      'network.peer.port': proxyPort,
    });
    expect(received[0]?.target).toBe('http://example.test/f');
  });

  it('records a path that is neither origin-form nor an http(s) URL on the host it was sent to', async () => {
    const { span } = await forward(mode, 'ftp://example.test/e');
    expect(span?.attributes).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': proxyPort,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': proxyPort,
    });
  });
});
