import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_TIMEOUT_MS, type Service, startService, stopAll, waitFor } from './fixtures/processes.js';
import { startZipkinReceiver, type ZipkinReceiver } from './fixtures/zipkin-receiver.js';
import { zipkin2Example, zipkinSpanValidator } from './fixtures/zipkin2-schema.js';

// What a running tracewire service sends a Zipkin collector (ZipkinExporter → toZipkinSpans), validated by Ajv
// against the ListOfSpans schema transcribed from openzipkin/zipkin-api zipkin2-api.yaml.

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint: { serviceName?: string };
  remoteEndpoint?: { ipv4?: string; port?: number };
  tags: Record<string, string>;
}

describe('the Zipkin v2 schema check itself', () => {
  const validate = zipkinSpanValidator();
  const span = zipkin2Example[0]!;

  it("accepts the spec's own example span", () => {
    expect(validate(zipkin2Example), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['a span without id', { id: undefined }],
    ['an upper-case id', { id: '352BFF9A74CA9AD2' }],
    ['a 33-character trace id', { traceId: `${TRACE_ID}0` }],
    ['a kind outside CLIENT/SERVER/PRODUCER/CONSUMER', { kind: 'INTERNAL' }],
    ['a zero duration', { duration: 0 }],
    ['a fractional timestamp', { timestamp: 1556604172355737.5 }],
    ['a numeric tag value', { tags: { 'http.status_code': 200 } }],
    ['an annotation without timestamp', { annotations: [{ value: 'ws' }] }],
    ['a malformed ipv4', { localEndpoint: { serviceName: 'backend', ipv4: '192.168.99' } }],
  ])('rejects %s', (_label, change) => {
    expect(validate([JSON.parse(JSON.stringify({ ...span, ...change }))])).toBe(false);
  });
});

describe('tracewire ZipkinExporter output from a running service', () => {
  let receiver: ZipkinReceiver;
  let downstream: Server;
  const services: Service[] = [];
  let spans: ZipkinSpan[];

  beforeAll(async () => {
    receiver = await startZipkinReceiver();
    downstream = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
    );
    await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
    const { port } = downstream.address() as { port: number };
    const service = await startService('tracewire-service.mjs', {
      env: {
        OTEL_SERVICE_NAME: 'tracewire-zipkin',
        DOWNSTREAM_URL: `http://127.0.0.1:${port}`,
        OTEL_PROPAGATORS: 'tracecontext',
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
    });
    services.push(service);
    const ok = await fetch(`${service.url}/users/7`, {
      headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01` },
    });
    expect(ok.status).toBe(200);
    expect((await fetch(`${service.url}/users/0`)).status).toBe(500);
    expect((await fetch(`${service.url}/chain`)).status).toBe(200);
    await waitFor('four Zipkin spans', () => receiver.spans().length >= 4);
    await stopAll(services);
    spans = receiver.spans() as unknown as ZipkinSpan[];
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await stopAll(services);
    await receiver?.close();
    await new Promise((resolve) => downstream?.close(resolve));
  });

  it('posts JSON bodies that validate as a zipkin2 ListOfSpans', () => {
    const validate = zipkinSpanValidator();
    expect(receiver.posts.length).toBeGreaterThan(0);
    for (const post of receiver.posts) {
      expect(post.contentType).toBe('application/json');
      expect(validate(post.body), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('reports the three requests and the one outgoing call, and nothing of its own export', () => {
    expect(spans.map((span) => `${span.kind} ${span.name}`).sort()).toEqual([
      'CLIENT GET',
      'SERVER GET /chain',
      'SERVER GET /users/:id',
      'SERVER GET /users/:id',
    ]);
  });

  it('keeps the incoming trace id and caller span as traceId and parentId', () => {
    const server = spans.find((span) => span.traceId === TRACE_ID);
    expect(server).toMatchObject({
      parentId: CALLER_SPAN_ID,
      kind: 'SERVER',
      name: 'GET /users/:id',
      localEndpoint: { serviceName: 'tracewire-zipkin' },
      tags: { 'http.response.status_code': '200', 'http.route': '/users/:id' },
    });
  });

  it('tags the failed request with error', () => {
    const failed = spans.find((span) => span.tags['http.response.status_code'] === '500');
    expect(failed?.tags).toHaveProperty('error');
  });

  it('reports the outgoing call as a CLIENT child with the peer as remoteEndpoint', () => {
    const server = spans.find((span) => span.name === 'GET /chain' && span.kind === 'SERVER')!;
    const client = spans.find((span) => span.kind === 'CLIENT');
    expect(client).toMatchObject({ traceId: server.traceId, parentId: server.id });
    expect(client?.remoteEndpoint?.ipv4).toBe('127.0.0.1');
  });
});
