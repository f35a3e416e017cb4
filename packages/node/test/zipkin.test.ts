import { afterEach, describe, expect, it } from 'vitest';
import { toZipkinSpans, ZipkinExporter } from '../src/exporters/zipkin.js';
import { type Receiver, startReceiver } from './fixtures/receiver.js';
import { makeSpan } from './fixtures/spans.js';

const START = 1_732_550_000_123.5;

describe('toZipkinSpans', () => {
  it('maps ids, name, kind, microsecond timestamp and duration, and the local service', () => {
    const [span] = toZipkinSpans([
      makeSpan({
        spanId: '00f067aa0ba902b7',
        parentSpanId: 'b7ad6b7169203331',
        name: 'GET /orders/:id',
        kind: 1,
        startTime: START,
        endTime: START + 12.25,
      }),
    ]);
    expect(span).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      id: '00f067aa0ba902b7',
      parentId: 'b7ad6b7169203331',
      name: 'GET /orders/:id',
      kind: 'SERVER',
      timestamp: 1_732_550_000_123_500,
      duration: 12_250,
      localEndpoint: { serviceName: 'checkout' },
      tags: {
        'service.version': '1.2.3',
        'otel.scope.name': '@tracewire/node',
        'otel.scope.version': '0.1.0',
      },
    });
  });

  it('sends resource attributes as tags, service.namespace included, but not service.name; the span wins', () => {
    const resource = {
      attributes: {
        'service.name': 'checkout',
        'service.namespace': 'shop',
        'deployment.environment.name': 'staging',
        'host.name': 'node-1',
        'process.pid': 4242,
      },
    };
    const [span] = toZipkinSpans([makeSpan({ resource, attributes: { 'host.name': 'from-span' } })]);
    expect(span!.localEndpoint).toEqual({ serviceName: 'checkout' });
    expect(span!.tags).toMatchObject({
      'service.namespace': 'shop',
      'deployment.environment.name': 'staging',
      'host.name': 'from-span',
      'process.pid': '4242',
    });
    expect(span!.tags['service.name']).toBeUndefined();
  });

  it('maps CLIENT, PRODUCER, CONSUMER and omits kind for INTERNAL', () => {
    const kinds = toZipkinSpans([0, 1, 2, 3, 4].map((kind) => makeSpan({ kind: kind as 0 }))).map(
      (s) => s.kind,
    );
    expect(kinds).toEqual([undefined, 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']);
  });

  it('gives a zero-length span a duration of 1 µs', () => {
    const [span] = toZipkinSpans([makeSpan({ startTime: START, endTime: START })]);
    expect(span!.duration).toBe(1);
  });

  it('sets remoteEndpoint for client spans from server.address and server.port', () => {
    const [byName, byIpv4, byIpv6, byPeerService, server] = toZipkinSpans([
      makeSpan({ kind: 2, attributes: { 'server.address': 'Payments.internal', 'server.port': 8443 } }),
      makeSpan({ kind: 2, attributes: { 'server.address': '10.0.0.7', 'server.port': 80 } }),
      makeSpan({ kind: 2, attributes: { 'network.peer.address': '::1', 'network.peer.port': 9000 } }),
      makeSpan({ kind: 3, attributes: { 'peer.service': 'kafka', 'server.address': 'broker-1' } }),
      makeSpan({ kind: 1, attributes: { 'server.address': 'api.example' } }),
    ]);
    expect(byName!.remoteEndpoint).toEqual({ serviceName: 'payments.internal', port: 8443 });
    expect(byIpv4!.remoteEndpoint).toEqual({ ipv4: '10.0.0.7', port: 80 });
    expect(byIpv6!.remoteEndpoint).toEqual({ ipv6: '::1', port: 9000 });
    expect(byPeerService!.remoteEndpoint).toEqual({ serviceName: 'kafka' });
    expect(server!.remoteEndpoint).toBeUndefined();
  });

  it('writes every attribute as a string tag: booleans lower case, arrays as JSON lists', () => {
    const [span] = toZipkinSpans([
      makeSpan({
        attributes: { code: 200, ratio: 0.5, ok: true, no: false, methods: ['GET', 'HEAD'], ns: [1, 2] },
      }),
    ]);
    expect(span!.tags).toMatchObject({
      code: '200',
      ratio: '0.5',
      ok: 'true',
      no: 'false',
      methods: '["GET","HEAD"]',
      ns: '[1,2]',
    });
    for (const value of Object.values(span!.tags)) expect(typeof value).toBe('string');
  });

  it('maps status per the OTel Zipkin spec: otel.status_code OK/ERROR, error tag with the description for ERROR only', () => {
    const [unset, ok, error, errorNoMessage, falseError] = toZipkinSpans([
      makeSpan({ status: { code: 0 } }),
      makeSpan({ status: { code: 1 } }),
      makeSpan({ status: { code: 2, message: 'connection reset' } }),
      makeSpan({ status: { code: 2 } }),
      makeSpan({ status: { code: 1 }, attributes: { error: false } }),
    ]);
    expect(unset!.tags['otel.status_code']).toBeUndefined();
    expect(unset!.tags['error']).toBeUndefined();
    expect(ok!.tags['otel.status_code']).toBe('OK');
    expect(ok!.tags['error']).toBeUndefined();
    expect(error!.tags).toMatchObject({ 'otel.status_code': 'ERROR', error: 'connection reset' });
    expect(errorNoMessage!.tags['error']).toBe('');
    expect(falseError!.tags['error']).toBeUndefined();
  });

  it("never lets the app's own error or otel.status_code attributes contradict the span's status", () => {
    const claims = { error: true, 'otel.status_code': 'ERROR' };
    const [unset, ok, error] = toZipkinSpans([
      makeSpan({ status: { code: 0 }, attributes: claims }),
      makeSpan({ status: { code: 1 }, attributes: claims }),
      makeSpan({
        status: { code: 2, message: 'timeout' },
        attributes: { error: 'mine', 'otel.status_code': 'OK' },
      }),
    ]);
    expect(unset!.tags['error']).toBeUndefined();
    expect(unset!.tags['otel.status_code']).toBeUndefined();
    expect(ok!.tags['error']).toBeUndefined();
    expect(ok!.tags['otel.status_code']).toBe('OK');
    expect(error!.tags).toMatchObject({ error: 'timeout', 'otel.status_code': 'ERROR' });
  });

  it('writes NaN and the infinities inside arrays and event attributes as strings, not as null', () => {
    const [span] = toZipkinSpans([
      makeSpan({
        attributes: { floats: [1.5, Number.NaN, Number.POSITIVE_INFINITY] },
        events: [
          {
            name: 'sample',
            time: START,
            attributes: { low: Number.NEGATIVE_INFINITY, all: [1, Number.NaN] },
            droppedAttributesCount: 2,
          },
        ],
      }),
    ]);
    expect(span!.tags['floats']).toBe('[1.5,"NaN","Infinity"]');
    // The event's dropped attributes are reported with it (generic non-OTLP mapping).
    expect(span!.annotations?.[0]?.value).toBe(
      '"sample": {"low":"-Infinity","all":[1,"NaN"],"otel.dropped_attributes_count":2}',
    );
  });

  it('turns events into annotations with their attributes, and dropped counts into tags', () => {
    const [span] = toZipkinSpans([
      makeSpan({
        events: [
          { name: 'retry', time: START + 1 },
          { name: 'exception', time: START + 2.5, attributes: { 'exception.type': 'TypeError' } },
        ],
        droppedAttributesCount: 2,
        droppedEventsCount: 1,
      }),
    ]);
    expect(span!.annotations).toEqual([
      { timestamp: 1_732_550_000_124_500, value: 'retry' },
      { timestamp: 1_732_550_000_126_000, value: '"exception": {"exception.type":"TypeError"}' },
    ]);
    expect(span!.tags).toMatchObject({
      'otel.dropped_attributes_count': '2',
      'otel.dropped_events_count': '1',
    });
    expect(span!.tags['otel.dropped_links_count']).toBeUndefined();
  });

  it('omits annotations, parentId and shared when there is nothing to say', () => {
    const [span] = toZipkinSpans([
      makeSpan({ kind: 1, parentSpanId: 'b7ad6b7169203331', parentIsRemote: true }),
    ]);
    expect(span).not.toHaveProperty('annotations');
    expect(span).not.toHaveProperty('shared');
    const [root] = toZipkinSpans([makeSpan()]);
    expect(root).not.toHaveProperty('parentId');
  });

  it('falls back to unknown_service:node without a service.name', () => {
    const [span] = toZipkinSpans([makeSpan({ resource: { attributes: {} } })]);
    expect(span!.localEndpoint).toEqual({ serviceName: 'unknown_service:node' });
  });
});

describe('ZipkinExporter', () => {
  let collector: Receiver | undefined;
  afterEach(async () => {
    await collector?.close();
    collector = undefined;
  });

  it('defaults to http://localhost:9411/api/v2/spans', () => {
    expect(new ZipkinExporter().url.href).toBe('http://localhost:9411/api/v2/spans');
  });

  it('POSTs the Zipkin v2 JSON array and treats 202 as success', async () => {
    collector = await startReceiver((_req, _i, res) => res.writeHead(202).end());
    const exporter = new ZipkinExporter({ url: collector.url.replace('/v1/traces', '/api/v2/spans') });
    const spans = [makeSpan({ kind: 2 }), makeSpan()];
    expect((await exporter.export(spans)).code).toBe(0);
    const request = collector.requests[0]!;
    expect(request.url).toBe('/api/v2/spans');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body.toString())).toEqual(toZipkinSpans(spans));
    await exporter.shutdown();
  });

  it('reports a failing server as FAILED without throwing', async () => {
    collector = await startReceiver((_req, _i, res) => res.writeHead(400).end('bad'));
    const exporter = new ZipkinExporter({ url: collector.url, warn: () => {} });
    const result = await exporter.export([makeSpan()]);
    expect(result.code).toBe(1);
    expect(result.error?.message).toMatch(/400/);
  });
});
