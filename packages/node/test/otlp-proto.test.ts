import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { encodeOtlpProto, encodeOtlpProtoInSlices, writeSpanField } from '../src/exporters/otlp-proto.js';
import { readOtlpAnswer } from '../src/exporters/otlp-response.js';
import { ProtoWriter } from '../src/exporters/proto-writer.js';
import type { ReadableSpan, SpanKind } from '../src/span-data.js';
import { oracleSpans } from './fixtures/oracle-spans.js';
import { decodeToObject, loadOtlpTypes } from './fixtures/otlp-proto-root.js';
import { defaultResource, makeSpan, ROOT_SPAN_ID, TRACE_ID } from './fixtures/spans.js';

const types = loadOtlpTypes();

type Decoded = {
  resourceSpans: {
    resource: { attributes: { key: string; value: Record<string, unknown> }[] };
    scopeSpans: { scope: { name: string; version: string }; spans: Record<string, unknown>[] }[];
  }[];
};

/**
 * OTel's protobuf serializer starts a new ScopeSpans whenever the scope changes between neighbouring spans, ours
 * (like its JSON serializer) gathers each scope once; both are valid OTLP. Merge equal scopes before comparing.
 */
function mergeScopes(decoded: Record<string, unknown>): Record<string, unknown> {
  const request = structuredClone(decoded) as unknown as Decoded;
  for (const resourceSpans of request.resourceSpans) {
    const merged: Decoded['resourceSpans'][number]['scopeSpans'] = [];
    for (const scopeSpans of resourceSpans.scopeSpans) {
      const same = merged.find((m) => JSON.stringify(m.scope) === JSON.stringify(scopeSpans.scope));
      if (same) same.spans.push(...scopeSpans.spans);
      else merged.push(scopeSpans);
    }
    resourceSpans.scopeSpans = merged;
  }
  return request as unknown as Record<string, unknown>;
}

/** Each encoded span's attributes as `[key, value]` pairs, for spans whose values are strings and integers. */
function decodedStringAndIntAttributes(bytes: Uint8Array): [string, string | number][][] {
  const decoded = decodeToObject(types.request, bytes) as unknown as Decoded;
  return decoded.resourceSpans[0]!.scopeSpans[0]!.spans.map((span) =>
    (span['attributes'] as { key: string; value: Record<string, unknown> }[]).map(({ key, value }) => [
      key,
      (value['stringValue'] as string | undefined) ?? Number(value['intValue']),
    ]),
  );
}

describe('encodeOtlpProto', () => {
  it('decodes with protobufjs against the official .proto to what OpenTelemetry ProtobufTraceSerializer encodes', () => {
    const { ours, theirs } = oracleSpans();
    const expected = decodeToObject(types.request, ProtobufTraceSerializer.serializeRequest(theirs)!);
    const actual = decodeToObject(types.request, encodeOtlpProto(ours));
    expect(actual).toEqual(mergeScopes(expected));
  });

  it('round-trips ids, kind, times, status, flags and every attribute type through a real protobuf decoder', () => {
    const decoded = decodeToObject(types.request, encodeOtlpProto(oracleSpans().ours)) as unknown as Decoded;
    const server = decoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(server).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      parentSpanId: 'b7ad6b7169203331',
      traceState: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
      name: 'GET /orders/:id',
      kind: 2,
      startTimeUnixNano: '1732550000123500000',
      endTimeUnixNano: '1732550000135750000',
      droppedAttributesCount: 3,
      droppedEventsCount: 1,
      status: { code: 2, message: 'upstream timed out' },
      flags: 0x301,
    });
    const attributes = Object.fromEntries(
      (server['attributes'] as { key: string; value: Record<string, unknown> }[]).map((kv) => [
        kv.key,
        kv.value,
      ]),
    );
    expect(attributes['http.request.method']).toEqual({ stringValue: 'GET' });
    expect(attributes['http.response.status_code']).toEqual({ intValue: '200' });
    expect(attributes['server.port']).toEqual({ intValue: '-1' });
    expect(attributes['http.server.duration_ratio']).toEqual({ doubleValue: 0.25 });
    expect(attributes['feature.enabled']).toEqual({ boolValue: false });
    expect(attributes['empty']).toEqual({ stringValue: '' });
    expect(attributes['retry.delays']).toEqual({
      arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2.5 }, { intValue: '3' }] },
    });
    expect(server['events']).toEqual([
      {
        timeUnixNano: '1732550000124250000',
        name: 'cache miss',
        attributes: [{ key: 'cache.key', value: { stringValue: 'orders:42' } }],
        droppedAttributesCount: 0,
      },
      {
        timeUnixNano: '1732550000125000000',
        name: 'handler start',
        attributes: [],
        droppedAttributesCount: 2,
      },
    ]);
    expect(server['links']).toEqual([
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'a2fb4a1d1a96d312',
        traceState: '',
        attributes: [{ key: 'reason', value: { stringValue: 'b3' } }],
        droppedAttributesCount: 4,
        flags: 0x301,
      },
    ]);
    expect(decoded.resourceSpans[0]!.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'checkout' },
    });
  });

  it('encodes an empty batch as an empty request', () => {
    expect(encodeOtlpProto([])).toEqual(new Uint8Array(0));
  });

  it('grows its buffer for large batches and still decodes', () => {
    const spans = Array.from({ length: 300 }, (_, i) =>
      makeSpan({ name: `span-${i}`, attributes: { 'long.value': 'x'.repeat(500), index: i } }),
    );
    const decoded = decodeToObject(types.request, encodeOtlpProto(spans)) as unknown as Decoded;
    const names = decoded.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s['name']);
    expect(names).toEqual(spans.map((s) => s.name));
  });

  it('writes every attribute key, past the keys it keeps encoded, and ids in upper or lower case', () => {
    // 1500 distinct keys: more than the encoder keeps (1024), each key used twice.
    const spans = Array.from({ length: 30 }, (_, i) =>
      makeSpan({
        spanId: i === 0 ? '00F067AA0BA902B7' : undefined,
        attributes: Object.fromEntries(
          Array.from({ length: 100 }, (_, k) => [`key.${(i * 50 + k) % 1500}`, k]),
        ),
      }),
    );
    const decoded = decodeToObject(types.request, encodeOtlpProto(spans)) as unknown as Decoded;
    const out = decoded.resourceSpans[0]!.scopeSpans[0]!.spans;
    out.forEach((span, i) => {
      const attributes = span['attributes'] as { key: string; value: { intValue: string } }[];
      expect(attributes.map((a) => [a.key, Number(a.value.intValue)])).toEqual(
        Object.entries(spans[i]!.attributes),
      );
    });
    expect(out[0]!['spanId']).toBe('00f067aa0ba902b7');
  });

  it('writes each span its own values where attributes repeat, change, alternate or are long', () => {
    const kinds = [
      (_i: number) => 'GET', // the same in every span
      (i: number) => `/users/${i}`, // new in every span
      (i: number) => (i % 2 === 0 ? 'curl/8.5' : 'autocannon'), // alternating
      (i: number) => (i % 50 < 25 ? 200 : 503), // runs of one value, then another
      (i: number) => (i % 3 === 0 ? 1.5 : i % 3 === 1 ? 0 : -0),
      (i: number) => i % 7 === 0,
      (i: number) => `${i % 4}`.repeat(300), // longer than any kept value
    ];
    const spans = Array.from({ length: 700 }, (_, i) =>
      makeSpan({ attributes: Object.fromEntries(kinds.map((kind, k) => [`attr.${k}`, kind(i)])) }),
    );
    const decoded = decodeToObject(types.request, encodeOtlpProto(spans)) as unknown as Decoded;
    const out = decoded.resourceSpans[0]!.scopeSpans[0]!.spans;
    const plain = (v: Record<string, unknown>) =>
      v['stringValue'] ??
      v['boolValue'] ??
      (v['intValue'] !== undefined ? Number(v['intValue']) : v['doubleValue']);
    out.forEach((span, i) => {
      const attributes = span['attributes'] as { key: string; value: Record<string, unknown> }[];
      const expected = Object.entries(spans[i]!.attributes).map(([k, v]) => [k, v === 0 ? 0 : v]);
      expect(attributes.map((a) => [a.key, plain(a.value)])).toEqual(expected);
    });
  });

  it('writes each span its own values when spans order their keys differently and the kept bytes start over', () => {
    // About 400 long values kept twice each (~140 KB): more than the encoder keeps in one stretch (64 KB).
    const long = (i: number) => `${'x'.repeat(150)}${Math.floor(i / 400)}`;
    const spans = Array.from({ length: 1600 }, (_, i) => {
      const entries: [string, string | number][] = [
        ['http.request.method', 'GET'],
        ['http.route', '/a'],
        ['server.port', 8080],
        [`long.${i % 400}`, long(i)],
      ];
      if (i % 3 === 1 && i < 800) entries.reverse();
      if (i % 3 === 2 && i < 800)
        entries.splice(1, 2, ['server.port', 8081], ['parity', i % 2 === 0 ? 'even' : 'odd']);
      // Then spans alike but for a new key each, kept each time: the start-over comes amid spans of one order.
      if (i >= 800) entries[3] = [`once.${i}`, long(i)];
      return makeSpan({ attributes: Object.fromEntries(entries) });
    });
    expect(decodedStringAndIntAttributes(encodeOtlpProto(spans))).toEqual(
      spans.map((span) => Object.entries(span.attributes)),
    );
  });

  it('writes each span its own values where keys alternate among a few values and the kept bytes start over', () => {
    // Each key takes three long values in turn, then the first two again, found among its earlier values; the
    // route alternates among three. About 100 KB of values are kept per case, so the kept bytes (64 KB) fill up and
    // start over amid them; value lengths vary from case to case, moving where.
    for (let length = 150; length < 156; length++) {
      const keys = 200;
      const value = (k: number, v: number) => `${'abc'[v]}${k}`.padEnd(length, 'x');
      const spans = [
        ...Array.from({ length: keys * 3 }, (_, i) => ({ k: Math.floor(i / 3), v: i % 3 })),
        ...Array.from({ length: keys * 2 }, (_, i) => ({ k: Math.floor(i / 2), v: i % 2 })),
      ].map(({ k, v }) => makeSpan({ attributes: { 'http.route': `/r${v}`, [`key.${k}`]: value(k, v) } }));
      expect(decodedStringAndIntAttributes(encodeOtlpProto(spans))).toEqual(
        spans.map((span) => Object.entries(span.attributes)),
      );
    }
  });

  it('writes each span its own values where spans of different kinds share keys', () => {
    const spans = Array.from({ length: 600 }, (_, i) =>
      makeSpan({
        kind: i % 2 === 0 ? 1 : 2,
        attributes:
          i % 2 === 0
            ? { 'http.request.method': 'GET', 'server.port': 3000, 'url.path': `/chain/${i}` }
            : { 'http.request.method': 'GET', 'url.full': `http://down/${i}`, 'server.port': 4000 },
      }),
    );
    expect(decodedStringAndIntAttributes(encodeOtlpProto(spans))).toEqual(
      spans.map((span) => Object.entries(span.attributes)),
    );
  });

  it('writes each span its own values where many routes interleave, past the routes kept apart and a start-over', () => {
    // 50 routes (more than get kept fields of their own), each with its own status and a long value that repeats
    // per route; then keys new each time (~100 KB kept) so that the kept bytes start over amid them.
    const route = (i: number) => `/r${(i * 7) % 50}/:id`;
    const spans = Array.from({ length: 2000 }, (_, i) =>
      makeSpan({
        name: `GET ${route(i)}`,
        kind: (i % 3 === 0 ? 2 : 1) as SpanKind,
        attributes: {
          'http.request.method': 'GET',
          'url.path': `/r/${i}`,
          'http.route': route(i),
          'http.response.status_code': 200 + ((i * 7) % 50),
          [i < 1000 ? 'route.note' : `once.${i}`]: `${route(i)}`.padEnd(100, 'x'),
        },
      }),
    );
    expect(decodedStringAndIntAttributes(encodeOtlpProto(spans))).toEqual(
      spans.map((span) => Object.entries(span.attributes)),
    );
    const decoded = decodeToObject(types.request, encodeOtlpProto(spans)) as unknown as Decoded;
    expect(decoded.resourceSpans[0]!.scopeSpans[0]!.spans.map((span) => span['name'])).toEqual(
      spans.map((span) => span.name),
    );
  });

  it('writes each span its own name where names repeat, alternate, are new each time or are empty', () => {
    const names = (i: number) =>
      i % 4 === 0 ? 'GET /users/:id' : i % 4 === 1 ? `GET /files/${i}` : i % 4 === 2 ? 'grüße' : '';
    const spans = Array.from({ length: 1200 }, (_, i) =>
      makeSpan({ name: names(i), kind: (i % 3) as SpanKind }),
    );
    const decoded = decodeToObject(types.request, encodeOtlpProto(spans)) as unknown as Decoded;
    const out = decoded.resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(out.map((span) => span['name'] ?? '')).toEqual(spans.map((span) => span.name));
  });

  it('writes an attribute repeated in spans, events, links and the resource into each of them', () => {
    const shared = { 'deployment.environment.name': 'production' };
    const resource = { attributes: { ...defaultResource.attributes, ...shared } };
    const link = { context: { traceId: TRACE_ID, spanId: ROOT_SPAN_ID, traceFlags: 1 }, attributes: shared };
    const spans = Array.from({ length: 6 }, (_, i) =>
      makeSpan({
        resource,
        attributes: shared,
        events: [{ name: 'retry', time: 1_732_550_000_005, attributes: shared }],
        links: i % 2 === 0 ? [link] : [],
      }),
    );
    const decoded = decodeToObject(types.request, encodeOtlpProto(spans)) as unknown as Decoded;
    const expected = [{ key: 'deployment.environment.name', value: { stringValue: 'production' } }];
    expect(decoded.resourceSpans[0]!.resource.attributes).toEqual(expect.arrayContaining(expected));
    const out = decoded.resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(out).toHaveLength(6);
    out.forEach((span, i) => {
      expect(span['attributes']).toEqual(expected);
      expect((span['events'] as Record<string, unknown>[])[0]!['attributes']).toEqual(expected);
      const links = (span['links'] ?? []) as Record<string, unknown>[];
      expect(links.map((l) => l['attributes'])).toEqual(i % 2 === 0 ? [expected] : []);
    });
  });

  it("writes an attributes object's own keys only, not those it inherits", () => {
    const attributes = Object.assign(Object.create({ inherited: 'from the prototype' }), { own: 'kept' });
    const decoded = decodeToObject(
      types.request,
      encodeOtlpProto([makeSpan({ attributes })]),
    ) as unknown as Decoded;
    const span = decoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect((span['attributes'] as { key: string }[]).map((a) => a.key)).toEqual(['own']);
  });

  it('encodes a large batch in slices that decode as one request holding every span in order', async () => {
    const spans = Array.from({ length: 200 }, (_, i) =>
      makeSpan({ name: `span-${i}`, attributes: { index: i } }),
    );
    const decoded = decodeToObject(types.request, await encodeOtlpProtoInSlices(spans)) as unknown as Decoded;
    expect(decoded.resourceSpans.length).toBeGreaterThan(1);
    const names = decoded.resourceSpans.flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s['name'])),
    );
    expect(names).toEqual(spans.map((s) => s.name));
    for (const rs of decoded.resourceSpans) expect(rs.resource).toEqual(decoded.resourceSpans[0]!.resource);
  });

  it('writes non-ASCII strings as UTF-8 and frames fields longer than 127 and 16383 bytes', () => {
    const values = [
      'grüße 🚀 東京',
      'é'.repeat(100),
      `${'a'.repeat(20_000)}ü`,
      'x'.repeat(127),
      'x'.repeat(128),
    ];
    const spans = values.map((value, i) =>
      makeSpan({ name: `${value.slice(0, 3)}-${i}`, attributes: { value } }),
    );
    const decoded = decodeToObject(types.request, encodeOtlpProto(spans)) as unknown as Decoded;
    const got = decoded.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => [
      s['name'],
      (s['attributes'] as { value: { stringValue: string } }[])[0]!.value.stringValue,
    ]);
    expect(got).toEqual(spans.map((s) => [s.name, s.attributes['value']]));
  });

  it('frames spans of under 128 bytes, of up to 16 KB and over it, each whole between its neighbours', () => {
    const sizes = [0, 300, 20_000, 0, 16_200, 100];
    const spans = sizes.map((n) => makeSpan(n === 0 ? {} : { attributes: { value: 'v'.repeat(n) } }));
    const alone = (span: ReadableSpan) => {
      const w = new ProtoWriter();
      writeSpanField(w, span);
      return w.finish().length;
    };
    expect(alone(spans[0]!)).toBeLessThan(128);
    expect(alone(spans[1]!)).toBeGreaterThan(128);
    expect(alone(spans[4]!)).toBeLessThan(16_384);
    const decoded = decodeToObject(types.request, encodeOtlpProto(spans)) as unknown as Decoded;
    const got = decoded.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => [
      s['name'],
      s['spanId'],
      (s['attributes'] as { value: { stringValue: string } }[])[0]?.value.stringValue.length ?? 0,
    ]);
    expect(got).toEqual(spans.map((s, i) => [s.name, s.spanContext().spanId, sizes[i]]));
  });
});

describe('readOtlpAnswer', () => {
  it('reads rejected spans and the message from a protobuf ExportTraceServiceResponse', () => {
    const body = types.response
      .encode(types.response.fromObject({ partialSuccess: { rejectedSpans: 7, errorMessage: 'too old' } }))
      .finish();
    expect(readOtlpAnswer(body, 'http/protobuf')).toEqual({
      kind: 'partial',
      partial: { rejectedSpans: 7, errorMessage: 'too old' },
    });
  });

  it('reads the JSON form, int64 as a string', () => {
    const body = new TextEncoder().encode(
      '{"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad span"}}',
    );
    expect(readOtlpAnswer(body, 'http/json')).toEqual({
      kind: 'partial',
      partial: { rejectedSpans: 3, errorMessage: 'bad span' },
    });
  });

  it('reads a warning with no span rejected as a partial success', () => {
    const body = new TextEncoder().encode('{"partialSuccess":{"errorMessage":"attribute truncated"}}');
    expect(readOtlpAnswer(body, 'http/json')).toEqual({
      kind: 'partial',
      partial: { rejectedSpans: 0, errorMessage: 'attribute truncated' },
    });
  });

  it('treats an empty body, an empty response and an empty partialSuccess as full success', () => {
    expect(readOtlpAnswer(new Uint8Array(0), 'http/protobuf')).toEqual({ kind: 'ok' });
    expect(readOtlpAnswer(new TextEncoder().encode('{}'), 'http/json')).toEqual({ kind: 'ok' });
    expect(readOtlpAnswer(new TextEncoder().encode('{"partialSuccess":{}}'), 'http/json')).toEqual({
      kind: 'ok',
    });
  });

  it('reads the answer in the encoding its content type names', () => {
    const json = new TextEncoder().encode('{}');
    expect(readOtlpAnswer(json, 'http/protobuf', 'application/json; charset=utf-8')).toEqual({ kind: 'ok' });
    expect(readOtlpAnswer(json, 'http/protobuf')).toEqual({ kind: 'unreadable' });
  });

  it('tells a body that is not an OTLP response apart from success', () => {
    const html = new TextEncoder().encode('<!DOCTYPE html><html><body>Sign in</body></html>');
    expect(readOtlpAnswer(html, 'http/json')).toEqual({ kind: 'unreadable' });
    expect(readOtlpAnswer(html, 'http/protobuf')).toEqual({ kind: 'unreadable' });
    expect(readOtlpAnswer(new Uint8Array([0x0a, 0x05, 0x08]), 'http/protobuf')).toEqual({
      kind: 'unreadable',
    });
  });
});
