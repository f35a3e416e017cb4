import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { encodeOtlpProto, toOtlpJson } from '@tracewire/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startViewer, type Viewer } from '../src/index.js';
import { decodeOtlpProto } from '../src/receivers/otlp-proto-decode.js';
import { ProtoReader } from '../src/receivers/proto-reader.js';
import { TRACE_ID, tracewireSpans } from './fixtures/tracewire-spans.js';

const MAX_BODY = 64 * 1024;
let viewer: Viewer;

beforeAll(async () => {
  viewer = await startViewer({
    uiPort: 0,
    otlpPort: 0,
    zipkinPort: 0,
    database: ':memory:',
    maxBodyBytes: MAX_BODY,
  });
});

afterAll(async () => {
  await viewer.close();
});

beforeEach(() => {
  viewer.store.db.exec('DELETE FROM spans; DELETE FROM traces;');
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw POST, so tests control every header (fetch would add or fix some). */
function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string>,
  method = 'POST',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const otlp = (): string => `${viewer.urls.otlp}/v1/traces`;
const json = { 'content-type': 'application/json' };
const protobuf = { 'content-type': 'application/x-protobuf' };
const validJson = (): string => JSON.stringify(toOtlpJson(tracewireSpans()));

describe('OTLP receiver refuses bad requests and stores nothing', () => {
  it('answers 400 with a google.rpc.Status JSON body to malformed JSON', async () => {
    const reply = await post(otlp(), '{"resourceSpans": [', json);
    expect(reply.status).toBe(400);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body.toString())).toMatchObject({
      code: 3,
      message: expect.stringMatching(/malformed JSON/),
    });
    expect(viewer.store.spanCount()).toBe(0);
  });

  it('answers 400 to JSON that is not an ExportTraceServiceRequest', async () => {
    for (const body of [
      '[]',
      '{"resourceSpans": {}}',
      '{"resourceSpans": [{"scopeSpans": [{"spans": [42]}]}]}',
    ]) {
      const reply = await post(otlp(), body, json);
      expect(reply.status, body).toBe(400);
    }
    expect(viewer.store.spanCount()).toBe(0);
  });

  it('answers 400 with a protobuf Status to truncated protobuf, storing none of the spans before the cut', async () => {
    const bytes = Buffer.from(encodeOtlpProto(tracewireSpans()));
    const reply = await post(otlp(), bytes.subarray(0, bytes.length - 3), protobuf);
    expect(reply.status).toBe(400);
    expect(reply.headers['content-type']).toBe('application/x-protobuf');
    // google.rpc.Status: code = 1 (varint), message = 2 (string).
    const status = new ProtoReader(reply.body);
    expect(status.tag()).toEqual([1, 0]);
    expect(status.uint32()).toBe(3);
    expect(status.tag()).toEqual([2, 2]);
    expect(status.string()).toMatch(/not a valid ExportTraceServiceRequest/);
    expect(viewer.store.spanCount()).toBe(0);
  });

  it('answers 400 to a body that is not gzip but says it is', async () => {
    const reply = await post(otlp(), validJson(), { ...json, 'content-encoding': 'gzip' });
    expect(reply.status).toBe(400);
    expect(viewer.store.spanCount()).toBe(0);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['no Content-Type', {}],
    ['form data', { 'content-type': 'application/x-www-form-urlencoded' }],
  ])('answers 415 to %s', async (_name, headers) => {
    const reply = await post(otlp(), validJson(), headers);
    expect(reply.status).toBe(415);
    expect(viewer.store.spanCount()).toBe(0);
  });

  it('answers 415 to a Content-Encoding other than gzip', async () => {
    const reply = await post(otlp(), validJson(), { ...json, 'content-encoding': 'br' });
    expect(reply.status).toBe(415);
    expect(viewer.store.spanCount()).toBe(0);
  });

  it('answers 413 to a body over the limit, declared by Content-Length', async () => {
    const reply = await post(otlp(), Buffer.alloc(MAX_BODY + 1, 0x20), json);
    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe('close');
    expect(viewer.store.spanCount()).toBe(0);
  });

  it('answers 413 to a chunked body that grows over the limit', async () => {
    const reply = await post(otlp(), Buffer.alloc(MAX_BODY * 2, 0x20), {
      ...json,
      'transfer-encoding': 'chunked',
    });
    expect(reply.status).toBe(413);
    expect(viewer.store.spanCount()).toBe(0);
  });

  it('answers 413 to a small gzip body that inflates over the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_BODY * 16, 0x20));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const reply = await post(otlp(), bomb, { ...json, 'content-encoding': 'gzip' });
    expect(reply.status).toBe(413);
    expect(viewer.store.spanCount()).toBe(0);
  });

  it('answers 405 to GET and 404 to other paths', async () => {
    expect((await post(otlp(), '', json, 'GET')).status).toBe(405);
    expect((await post(`${viewer.urls.otlp}/v1/metrics`, validJson(), json)).status).toBe(404);
  });

  it('still takes a good request on the same server after refusing bad ones', async () => {
    await post(otlp(), Buffer.alloc(MAX_BODY + 1, 0x20), json);
    const reply = await post(otlp(), validJson(), json);
    expect(reply.status).toBe(200);
    expect(viewer.store.spanCount()).toBe(3);
  });
});

describe('OTLP partial success', () => {
  function withBadIds(): ReturnType<typeof toOtlpJson> {
    const request = toOtlpJson(tracewireSpans());
    const spans = request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    spans[1]!.spanId = '0000000000000000';
    spans[2]!.traceId = 'not-hex';
    return request;
  }

  it('reports rejected spans in a JSON ExportTraceServiceResponse and stores the valid ones', async () => {
    const reply = await post(otlp(), JSON.stringify(withBadIds()), json);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body.toString())).toEqual({
      partialSuccess: { rejectedSpans: '2', errorMessage: '2 span(s) had an invalid traceId or spanId' },
    });
    expect(viewer.store.spanCount()).toBe(1);
  });

  it('reports rejected spans in a protobuf ExportTraceServiceResponse', async () => {
    const spans = tracewireSpans();
    const bad = {
      ...spans[0]!,
      spanContext: () => ({ traceId: TRACE_ID, spanId: '0000000000000000', traceFlags: 1 }),
    };
    const reply = await post(otlp(), Buffer.from(encodeOtlpProto([bad, spans[1]!])), protobuf);
    expect(reply.status).toBe(200);
    const response = new ProtoReader(reply.body);
    expect(response.tag()).toEqual([1, 2]);
    const partial = response.message();
    expect(partial.tag()).toEqual([1, 0]);
    expect(partial.int64()).toBe(1n);
    expect(partial.tag()).toEqual([2, 2]);
    expect(partial.string()).toMatch(/invalid traceId or spanId/);
    expect(viewer.store.spanCount()).toBe(1);
  });

  it('answers full success with an empty body (protobuf) or {} (JSON)', async () => {
    const proto = await post(otlp(), Buffer.from(encodeOtlpProto(tracewireSpans())), protobuf);
    expect(proto.status).toBe(200);
    expect(decodeOtlpProto(proto.body)).toEqual({ resourceSpans: [] });
    expect(proto.body.length).toBe(0);
    const reply = await post(otlp(), validJson(), json);
    expect(reply.body.toString()).toBe('{}');
  });
});

describe('Zipkin receiver refuses bad requests and stores nothing', () => {
  const zipkin = (): string => viewer.urls.zipkin;
  const span = { traceId: TRACE_ID, id: '00f067aa0ba902b7', name: 'get', timestamp: 1, duration: 2 };

  it('accepts a valid list with 202', async () => {
    const reply = await post(zipkin(), JSON.stringify([span]), json);
    expect(reply.status).toBe(202);
    expect(viewer.store.spanCount()).toBe(1);
  });

  it('keeps both halves of a B3 shared span: the server half nests under the client half', async () => {
    const client = { ...span, kind: 'CLIENT', localEndpoint: { serviceName: 'web' } };
    const server = { ...span, kind: 'SERVER', shared: true, localEndpoint: { serviceName: 'api' } };
    expect((await post(zipkin(), JSON.stringify([client, server]), json)).status).toBe(202);
    const spans = viewer.store.getTrace(TRACE_ID)!.spans;
    expect(spans.map((s) => [s.service, s.kind, s.parentSpanId])).toEqual([
      ['web', 'client', undefined],
      ['api', 'server', span.id],
    ]);
  });

  it('widens 64-bit Zipkin trace ids to 128 bits with leading zeros', async () => {
    const reply = await post(zipkin(), JSON.stringify([{ ...span, traceId: 'a3ce929d0e0e4736' }]), json);
    expect(reply.status).toBe(202);
    expect(viewer.store.getTrace(`${'0'.repeat(16)}a3ce929d0e0e4736`)?.spans).toHaveLength(1);
  });

  it.each([
    ['malformed JSON', '[{"traceId":'],
    ['an object instead of a list', JSON.stringify(span)],
    ['an invalid span id, failing the whole list', JSON.stringify([span, { ...span, id: 'xyz' }])],
    ['an all-zero trace id', JSON.stringify([{ ...span, traceId: '0'.repeat(32) }])],
    ['a negative duration', JSON.stringify([{ ...span, duration: -5 }])],
    ['tags that are not strings', JSON.stringify([{ ...span, tags: { n: 1 } }])],
  ])('answers 400 to %s', async (_name, body) => {
    const reply = await post(zipkin(), body, json);
    expect(reply.status).toBe(400);
    expect(viewer.store.spanCount()).toBe(0);
  });

  it('answers 415 to protobuf and 413 to an oversized body', async () => {
    expect((await post(zipkin(), 'x', { 'content-type': 'application/x-protobuf' })).status).toBe(415);
    expect((await post(zipkin(), Buffer.alloc(MAX_BODY + 1, 0x20), json)).status).toBe(413);
    expect(viewer.store.spanCount()).toBe(0);
  });
});
