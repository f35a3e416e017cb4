import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { configure, InMemoryExporter, SimpleSpanProcessor, SpanKind } from '@tracewire/node';
import axios from 'axios';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

// axios reaches an http: target through a proxy (its `proxy` option, or HTTP_PROXY) by sending the whole URL to the
// proxy as the request-target. The client span must name the target, not the proxy, and the traceparent must reach
// the proxy, which passes it on.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'outgoing-proxy',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});

const received: { target: string; traceparent: string | undefined }[] = [];
const proxy = http.createServer((req, res) => {
  received.push({ target: req.url ?? '', traceparent: req.headers.traceparent as string | undefined });
  res.end('{"ok":true}');
});
let proxyPort = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as AddressInfo).port;
});
afterAll(async () => {
  await tracer.shutdown();
  proxy.closeAllConnections();
  await new Promise((resolve) => proxy.close(resolve));
});
afterEach(() => {
  delete process.env.HTTP_PROXY;
  exporter.reset();
  received.length = 0;
});

async function tracedGet(send: () => Promise<unknown>) {
  const parentSpanId = await tracer.startActiveSpan('parent', async (span) => {
    await send();
    span.end();
    return span.spanContext().spanId;
  });
  // The client span ends when the response does, which may be just after axios resolved.
  const clientSpans = () => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
  for (let waited = 0; clientSpans().length === 0 && waited < 1000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const clients = clientSpans();
  expect(clients).toHaveLength(1);
  const client = clients[0]!;
  expect(client.parentSpanId).toBe(parentSpanId);
  expect(received).toHaveLength(1);
  expect(received[0]?.target).toBe('http://api.example.test/users/7?q=1');
  expect(received[0]?.traceparent?.split('-')[2]).toBe(client.spanContext().spanId);
  return client;
}

const target = {
  'url.full': 'http://api.example.test/users/7?q=1',
  'server.address': 'api.example.test',
  'server.port': 80,
  'network.peer.address': '127.0.0.1',
};

it('axios with its proxy option: the span names the target, the proxy is the network peer', async () => {
  const client = await tracedGet(() =>
    axios.get('http://api.example.test/users/7?q=1', {
      proxy: { protocol: 'http', host: '127.0.0.1', port: proxyPort },
    }),
  );
  expect(client.attributes).toMatchObject({ ...target, 'network.peer.port': proxyPort });
});

it('axios through HTTP_PROXY: the same', async () => {
  process.env.HTTP_PROXY = `http://127.0.0.1:${proxyPort}`;
  const client = await tracedGet(() => axios.get('http://api.example.test/users/7?q=1'));
  expect(client.attributes).toMatchObject({ ...target, 'network.peer.port': proxyPort });
});
