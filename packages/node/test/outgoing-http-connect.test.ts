import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingOptions } from '../src/outgoing-options.js';
import { SpanStatusCode } from '../src/span-data.js';
import { parseTraceparent, waitForSpans } from './outgoing-harness.js';
import { httpModes, installHttpMode, type ModeHarness } from './outgoing-http-modes.js';

// A CONNECT through an HTTP proxy: `http.request({ method: 'CONNECT', host: proxy, port, path: 'example.test:443' })`.
// The request-target is in authority-form (RFC 9112 §3.2.3): the tunnel's destination, not a path on the proxy.

let proxy: http.Server;
let proxyPort: number;
const received: { target: string; traceparent: string | undefined }[] = [];
let harness: ModeHarness | undefined;

beforeAll(async () => {
  proxy = http.createServer();
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

/** Opens a tunnel to `target` through the proxy; resolves with the proxy's status once the span has ended. */
async function tunnel(mode: (typeof httpModes)[number], target: string, options?: OutgoingOptions) {
  harness?.uninstall();
  harness = installHttpMode(mode, options);
  const h = harness;
  const before = h.spans.length;
  const req = h.send(() =>
    http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: target }),
  );
  const status = await new Promise<number | undefined>((resolve, reject) => {
    req.on('connect', (res: http.IncomingMessage, socket: Duplex) => {
      socket.destroy();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
  await waitForSpans(h.spans, before + 1);
  return { status, span: h.spans[before] };
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
