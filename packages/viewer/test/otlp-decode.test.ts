import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { encodeOtlpProto, toOtlpJson } from '@tracewire/node';
import { describe, expect, it } from 'vitest';
import { decodeOtlpJson } from '../src/receivers/otlp-json-decode.js';
import { decodeOtlpProto } from '../src/receivers/otlp-proto-decode.js';
import { otlpToRecords } from '../src/receivers/otlp-to-records.js';
import { ProtoError } from '../src/receivers/proto-reader.js';
import { otelSpans } from './fixtures/otel-spans.js';
import { LINKED_TRACE_ID, TRACE_ID, tracewireSpans } from './fixtures/tracewire-spans.js';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('the OTLP protobuf reader', () => {
  it("decodes tracewire's encodeOtlpProto to the same request as its OTLP/JSON", () => {
    const spans = tracewireSpans();
    expect(decodeOtlpProto(encodeOtlpProto(spans))).toEqual(
      decodeOtlpJson(JSON.stringify(toOtlpJson(spans))),
    );
  });

  it("decodes OpenTelemetry's ProtobufTraceSerializer to the same request as its JsonTraceSerializer", async () => {
    const spans = await otelSpans();
    const fromProto = decodeOtlpProto(ProtobufTraceSerializer.serializeRequest(spans)!);
    const fromJson = decodeOtlpJson(text(JsonTraceSerializer.serializeRequest(spans)!));
    expect(fromProto).toEqual(fromJson);
    expect(fromProto.resourceSpans).toHaveLength(1);
  });

  it("reads every field of tracewire's spans: ids, kind, times, attributes of each type, events, links, status", () => {
    const { spans, rejected } = otlpToRecords(decodeOtlpProto(encodeOtlpProto(tracewireSpans())));
    expect(rejected).toBe(0);
    const [server, client, stock] = spans;
    expect(server).toMatchObject({
      traceId: TRACE_ID,
      spanId: '00f067aa0ba902b7',
      parentSpanId: undefined,
      service: 'shop',
      name: 'GET /orders/:id',
      kind: 'server',
      startUs: 1_732_550_000_000_000,
      durationUs: 40_500,
      statusCode: 0,
      attributes: {
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        'http.server.ratio': 0.25,
        'feature.enabled': true,
        'retry.delays': [1, 2, 3],
        'accept.types': ['application/json', 'text/plain'],
      },
      resource: { 'service.name': 'shop', 'service.version': '1.2.3' },
      scope: { name: '@tracewire/node', version: '0.1.0' },
      events: [
        { timeUs: 1_732_550_000_002_500, name: 'cache miss', attributes: { 'cache.key': 'orders:42' } },
      ],
      links: [{ traceId: LINKED_TRACE_ID, spanId: 'a2fb4a1d1a96d312', attributes: { reason: 'batch' } }],
    });
    expect(client).toMatchObject({ kind: 'client', parentSpanId: '00f067aa0ba902b7', statusCode: 2 });
    expect(stock).toMatchObject({ service: 'stock', statusCode: 2, statusMessage: 'warehouse down' });
  });

  it("reads OpenTelemetry's spans: service, scope, kind, status, event and link", async () => {
    const otel = await otelSpans();
    const { spans } = otlpToRecords(decodeOtlpProto(ProtobufTraceSerializer.serializeRequest(otel)!));
    const root = spans.find((s) => s.name === 'POST /cart')!;
    const child = spans.find((s) => s.name === 'SELECT cart')!;
    expect(root).toMatchObject({
      service: 'otel-cart',
      kind: 'server',
      scope: { name: 'otel-test', version: '2.0.0' },
      attributes: {
        'http.request.method': 'POST',
        'http.response.status_code': 201,
        'cart.ratio': 0.5,
        'cart.guest': false,
        'cart.items': ['a', 'b'],
      },
      events: [{ name: 'validated', attributes: { 'cart.size': 2 } }],
      links: [
        {
          traceId: '0af7651916cd43dd8448eb211c80319c',
          spanId: 'a2fb4a1d1a96d312',
          attributes: { reason: 'retry' },
        },
      ],
    });
    expect(root.traceId).toBe(otel[0]!.spanContext().traceId);
    expect(child).toMatchObject({
      kind: 'client',
      parentSpanId: root.spanId,
      statusCode: 2,
      statusMessage: 'db timeout',
    });
  });

  it('keeps int64 values beyond 2^53 exact, as decimal strings', () => {
    const request = decodeOtlpJson(
      JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: TRACE_ID,
                    spanId: '00f067aa0ba902b7',
                    attributes: [{ key: 'big', value: { intValue: '9223372036854775807' } }],
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes['big']).toBe('9223372036854775807');
  });

  it.each([
    ['a truncated message', encodeOtlpProto(tracewireSpans()).subarray(0, 40)],
    ['a length running past the end', new Uint8Array([0x0a, 0x7f, 0x01])],
    ['a group wire type', new Uint8Array([0x0b])],
    ['field number 0', new Uint8Array([0x00, 0x01])],
    [
      'a varint longer than ten bytes',
      new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ],
    ['resource_spans with the wrong wire type', new Uint8Array([0x08, 0x01])],
  ])('throws ProtoError on %s', (_name, bytes) => {
    expect(() => decodeOtlpProto(bytes)).toThrow(ProtoError);
  });

  it('skips fields it does not know (proto3 forward compatibility)', () => {
    const known = encodeOtlpProto(tracewireSpans());
    // Field 99, varint 1, then field 98 as a 2-byte string: tags 0x98 0x06 and 0x92 0x06.
    const withUnknown = new Uint8Array([0x98, 0x06, 0x01, 0x92, 0x06, 0x02, 0x68, 0x69, ...known]);
    expect(decodeOtlpProto(withUnknown)).toEqual(decodeOtlpProto(known));
  });
});

describe('OTLP span validation', () => {
  it('rejects spans with invalid trace or span ids and keeps the rest', () => {
    const request = toOtlpJson(tracewireSpans());
    const spans = request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    spans[0]!.traceId = '00000000000000000000000000000000';
    spans[1]!.spanId = 'xyz';
    const decoded = otlpToRecords(decodeOtlpJson(JSON.stringify(request)));
    expect(decoded.rejected).toBe(2);
    expect(decoded.rejectReason).toMatch(/invalid traceId or spanId/);
    expect(decoded.spans.map((s) => s.name)).toEqual(['GET /stock/:sku']);
  });
});
