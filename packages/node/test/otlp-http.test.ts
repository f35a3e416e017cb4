import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { isTracingSuppressed } from '../src/context.js';
import { OtlpHttpExporter } from '../src/exporters/otlp-http-exporter.js';
import { toOtlpJson } from '../src/exporters/otlp-json.js';
import { configure } from '../src/global.js';
import { SDK_VERSION } from '../src/resource.js';
import { decodeToObject, loadOtlpTypes } from './fixtures/otlp-proto-root.js';
import { type Receiver, startReceiver } from './fixtures/receiver.js';
import { makeSpan } from './fixtures/spans.js';

const types = loadOtlpTypes();
const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
async function receiver(respond?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const started = await startReceiver(respond);
  receivers.push(started);
  return started;
}

describe('OtlpHttpExporter', () => {
  it('defaults to http/protobuf at http://localhost:4318/v1/traces', () => {
    const exporter = new OtlpHttpExporter();
    expect(exporter.url.href).toBe('http://localhost:4318/v1/traces');
    expect(exporter.protocol).toBe('http/protobuf');
  });

  it('POSTs application/x-protobuf that decodes as an ExportTraceServiceRequest, with the configured headers', async () => {
    const collector = await receiver();
    const exporter = new OtlpHttpExporter({ url: collector.url, headers: { authorization: 'Bearer t0ken' } });
    const span = makeSpan({ name: 'GET /health' });
    expect((await exporter.export([span])).code).toBe(0);
    const request = collector.requests[0]!;
    expect(request.url).toBe('/v1/traces');
    expect(request.headers['content-type']).toBe('application/x-protobuf');
    expect(request.headers['authorization']).toBe('Bearer t0ken');
    expect(request.headers['user-agent']).toBe(`tracewire-node/${SDK_VERSION}`);
    const decoded = decodeToObject(types.request, request.body) as {
      resourceSpans: { scopeSpans: { spans: { name: string; spanId: string }[] }[] }[];
    };
    expect(decoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]).toMatchObject({
      name: 'GET /health',
      spanId: span.spanContext().spanId,
    });
  });

  it('sends each batch whole when batches follow one another, a large one after a small one and back', async () => {
    const collector = await receiver();
    const exporter = new OtlpHttpExporter({ url: collector.url });
    const batches = [1, 700, 3].map((size, b) =>
      Array.from({ length: size }, (_, i) => makeSpan({ name: `batch ${b} span ${i}` })),
    );
    for (const batch of batches) expect((await exporter.export(batch)).code).toBe(0);
    const names = collector.requests.map((request) => {
      const decoded = decodeToObject(types.request, request.body) as {
        resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[];
      };
      return decoded.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)),
      );
    });
    expect(names).toEqual(batches.map((batch) => batch.map((span) => span.name)));
  });

  it("sends the user's own User-Agent instead of tracewire's, whatever its case", async () => {
    const collector = await receiver();
    const exporter = new OtlpHttpExporter({
      url: collector.url,
      headers: { 'User-Agent': 'checkout-proxy/2' },
    });
    expect((await exporter.export([makeSpan({ name: 'GET /health' })])).code).toBe(0);
    expect(collector.requests[0]!.headers['user-agent']).toBe('checkout-proxy/2');
  });

  it('POSTs application/json with the OTLP JSON body for http/json', async () => {
    const collector = await receiver();
    const exporter = new OtlpHttpExporter({ url: collector.url, protocol: 'http/json' });
    const spans = [makeSpan()];
    await exporter.export(spans);
    expect(collector.requests[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(collector.requests[0]!.body.toString())).toEqual(
      JSON.parse(JSON.stringify(toOtlpJson(spans))),
    );
  });

  it('reads a protobuf partialSuccess answer and reports the rejected spans', async () => {
    const answer = types.response
      .encode(
        types.response.fromObject({ partialSuccess: { rejectedSpans: 1, errorMessage: 'invalid span' } }),
      )
      .finish();
    const collector = await receiver((_req, _i, res) =>
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(answer)),
    );
    const exporter = new OtlpHttpExporter({ url: collector.url });
    expect(await exporter.export([makeSpan(), makeSpan()])).toEqual({ code: 0, rejectedSpans: 1 });
  });

  it('sends its requests with tracing suppressed, so outgoing instrumentation leaves them alone', async () => {
    const collector = await receiver();
    const seen: boolean[] = [];
    const onRequest = (): void => {
      seen.push(isTracingSuppressed());
    };
    diagnosticsChannel.subscribe('http.client.request.start', onRequest);
    try {
      await new OtlpHttpExporter({ url: collector.url }).export([makeSpan()]);
    } finally {
      diagnosticsChannel.unsubscribe('http.client.request.start', onRequest);
    }
    expect(seen).toEqual([true]);
    expect(collector.requests[0]!.headers['traceparent']).toBeUndefined();
  });

  it('with outgoing instrumentation installed, exporting inside an active span neither traces nor tags its POST', async () => {
    const collector = await receiver();
    const tracer = configure({
      serviceName: 'no-feedback',
      exporters: [new OtlpHttpExporter({ url: collector.url, protocol: 'http/json' })],
      batch: { scheduledDelayMillis: 60_000 },
      shutdownOnSignals: false,
    });
    try {
      await tracer.startActiveSpan('parent', {}, async (parent) => {
        tracer.startSpan('child').end();
        // The flush sends from inside `parent`'s context: only suppression keeps the POST from becoming its child.
        await tracer.forceFlush();
        parent.end();
      });
      await tracer.forceFlush();
    } finally {
      await tracer.shutdown();
    }
    const names = collector.requests.flatMap((request) =>
      (JSON.parse(request.body.toString()) as ReturnType<typeof toOtlpJson>).resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => span.name)),
      ),
    );
    expect(names.sort()).toEqual(['child', 'parent']);
    for (const request of collector.requests) expect(request.headers['traceparent']).toBeUndefined();
  });

  it('refuses to export after shutdown', async () => {
    const exporter = new OtlpHttpExporter();
    await exporter.shutdown();
    expect((await exporter.export([makeSpan()])).code).toBe(1);
  });

  it('rejects bad options with errors naming the option and accepted values', () => {
    expect(() => new OtlpHttpExporter({ url: 'localhost:4318' })).toThrow(/url/);
    expect(() => new OtlpHttpExporter({ url: 'ftp://collector/v1/traces' })).toThrow(TypeError);
    expect(() => new OtlpHttpExporter({ protocol: 'grpc' as 'http/json' })).toThrow(
      /'http\/json', 'http\/protobuf'/,
    );
    expect(() => new OtlpHttpExporter({ compression: 'br' as 'gzip' })).toThrow(/compression/);
    expect(() => new OtlpHttpExporter({ timeoutMillis: 0 })).toThrow(RangeError);
  });

  it('rejects headers Node cannot send when constructed, instead of failing every export without a warning', () => {
    expect(() => new OtlpHttpExporter({ headers: { 'bad header': 'x' } })).toThrow(
      'headers: "bad header" is not a valid HTTP header name',
    );
    expect(() => new OtlpHttpExporter({ headers: { authorization: 'Bearer\nsecret' } })).toThrow(TypeError);
    expect(() => new OtlpHttpExporter({ headers: { authorization: 'Bearer\nsecret' } })).not.toThrow(
      /secret/,
    );
  });
});
