import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchSpanProcessor } from '../src/batch-processor.js';
import { OtlpHttpExporter } from '../src/exporters/otlp-http-exporter.js';
import { encodeOtlpProto } from '../src/exporters/otlp-proto.js';
import type { Attributes, ReadableSpan, Resource } from '../src/span-data.js';
import { TracerStats } from '../src/stats.js';
import { oracleSpans } from './fixtures/oracle-spans.js';
import { decodeToObject, loadOtlpTypes } from './fixtures/otlp-proto-root.js';
import { closedPort, type Receiver, startReceiver } from './fixtures/receiver.js';
import { makeSpan } from './fixtures/spans.js';

const types = loadOtlpTypes();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function exportThroughProcessor(
  spans: readonly ReadableSpan[],
  protocol: 'http/json' | 'http/protobuf' = 'http/protobuf',
): Promise<{ collector: Receiver; stats: TracerStats; processor: BatchSpanProcessor }> {
  const collector = await startReceiver();
  const stats = new TracerStats();
  const processor = new BatchSpanProcessor(new OtlpHttpExporter({ url: collector.url, protocol }), {}, stats);
  cleanups.push(async () => {
    await processor.shutdown();
    await collector.close();
  });
  for (const span of spans) processor.onEnd(span);
  return { collector, stats, processor };
}

/** Memory held in ArrayBuffers once everything unreachable is collected. */
function retainedBufferBytes(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().arrayBuffers;
}

const MB = 1024 * 1024;

function spanNames(body: Uint8Array): string[] {
  const decoded = decodeToObject(types.request, body) as {
    resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[];
  };
  return decoded.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)));
}

describe('OTLP protobuf spans encoded as they end', () => {
  it('deliver the request encodeOtlpProto makes of the whole batch, scopes and resources interleaved', async () => {
    const other: Resource = { attributes: { 'service.name': 'billing' } };
    const spans = [
      ...oracleSpans().ours,
      makeSpan({ name: 'a1', scope: { name: 'a', version: '1' } }),
      makeSpan({ name: 'b1', scope: { name: 'b' } }),
      makeSpan({ name: 'other a', resource: other, scope: { name: 'a', version: '1' } }),
      // Another scope object with the same name and version is the same scope.
      makeSpan({ name: 'a2', scope: { name: 'a', version: '1' } }),
      makeSpan({ name: 'b2', scope: { name: 'b' } }),
      // No version and an empty one are the same scope, as encodeOtlpProto groups them.
      makeSpan({ name: 'b3', scope: { name: 'b', version: '' } }),
    ];
    const { collector, stats, processor } = await exportThroughProcessor(spans);
    await processor.forceFlush();
    expect(collector.requests).toHaveLength(1);
    // The processor leaves out spans of unsampled traces (the oracle has one); encodeOtlpProto encodes what it gets.
    const sampled = spans.filter((span) => (span.spanContext().traceFlags & 1) === 1);
    expect(sampled.length).toBeGreaterThan(5);
    expect(decodeToObject(types.request, collector.requests[0]!.body)).toEqual(
      decodeToObject(types.request, encodeOtlpProto(sampled)),
    );
    expect(stats.spansExported).toBe(sampled.length);
  });

  it('leave out only a span that cannot be encoded: its onEnd throws and the rest of its batch is delivered', async () => {
    // Attribute values are checked when set on a real span; a processor can still be handed anything.
    const unencodable = makeSpan({
      name: 'bad',
      attributes: { broken: {} } as unknown as Attributes,
      resource: { attributes: { 'service.name': 'nowhere' } },
    });
    const { collector, stats, processor } = await exportThroughProcessor([makeSpan({ name: 'before' })]);
    expect(() => processor.onEnd(unencodable)).toThrow(TypeError);
    processor.onEnd(makeSpan({ name: 'after' }));
    expect(processor.queueLength).toBe(2);
    await processor.forceFlush();
    expect(collector.requests.map((request) => spanNames(request.body))).toEqual([['before', 'after']]);
    // The failed span's resource, seen first in the batch, is not sent with no spans under it.
    const decoded = decodeToObject(types.request, collector.requests[0]!.body) as {
      resourceSpans: unknown[];
    };
    expect(decoded.resourceSpans).toHaveLength(1);
    expect(stats.spansExported).toBe(2);
    expect(stats.exportFailures).toBe(0);
  });

  it('send full batches as they fill and the rest on flush, each span once and in order', async () => {
    const spans = Array.from({ length: 1100 }, (_, i) => makeSpan({ name: `span ${i}` }));
    const { collector, processor } = await exportThroughProcessor(spans);
    await processor.forceFlush();
    const batches = collector.requests.map((request) => spanNames(request.body));
    expect(batches.map((names) => names.length)).toEqual([512, 512, 76]);
    expect(batches.flat()).toEqual(spans.map((span) => span.name));
  });

  it('are not used by a subclass that overrides export, which still gets every span to filter', async () => {
    const collector = await startReceiver();
    class Filtering extends OtlpHttpExporter {
      override export(spans: readonly ReadableSpan[]) {
        return super.export(spans.filter((span) => span.name !== 'secret'));
      }
    }
    const processor = new BatchSpanProcessor(new Filtering({ url: collector.url }));
    cleanups.push(async () => {
      await processor.shutdown();
      await collector.close();
    });
    for (const name of ['public', 'secret', 'also public']) processor.onEnd(makeSpan({ name }));
    await processor.forceFlush();
    expect(collector.requests.map((request) => spanNames(request.body))).toEqual([['public', 'also public']]);
  });

  it('are not used for http/json, which still receives the whole batch as JSON', async () => {
    const { collector, processor } = await exportThroughProcessor(
      [makeSpan({ name: 'json span' })],
      'http/json',
    );
    await processor.forceFlush();
    const request = collector.requests[0]!;
    expect(request.headers['content-type']).toBe('application/json');
    const body = JSON.parse(Buffer.from(request.body).toString('utf8')) as {
      resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[];
    };
    expect(body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name).toBe('json span');
  });

  it('keeps no buffer that a batch of unusually large spans grew, once it is delivered', async () => {
    const collector = await startReceiver();
    const processor = new BatchSpanProcessor(
      new OtlpHttpExporter({ url: collector.url }),
      {},
      new TracerStats(),
    );
    const statement = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 512; i++) processor.onEnd(makeSpan({ attributes: { 'db.statement': statement } }));
    await processor.forceFlush();
    expect(collector.requests).toHaveLength(1);
    expect(collector.requests[0]!.body.length).toBeGreaterThan(32 * MB);
    // The receiver (its connection, the body it kept) lets go of what it received: only the exporter's memory is left.
    collector.requests.length = 0;
    await collector.close();
    // Sockets let go of what they wrote and read a little later, the more so on a busy machine; the exporter's
    // buffers, kept for reuse, stayed for the process's life (over 64 MB here), however long one waited.
    let retained = retainedBufferBytes();
    for (let i = 0; i < 40 && retained >= 12 * MB; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      retained = retainedBufferBytes();
    }
    expect(retained).toBeLessThan(12 * MB);
    await processor.shutdown();
  });

  it('gives each instrumentation scope of a batch a buffer the size of its spans, not of a whole batch', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1/traces`;
    const exporter = new OtlpHttpExporter({ url, retry: { maxAttempts: 1 } });
    const stats = new TracerStats();
    const processor = new BatchSpanProcessor(exporter, { exportTimeoutMillis: 200 }, stats);
    const before = retainedBufferBytes();
    // A full queue (2048 spans, four batches) of spans from 256 tracers, as an app naming tracers from data makes.
    for (let i = 0; i < 2048; i++) processor.onEnd(makeSpan({ scope: { name: `tracer-${i % 256}` } }));
    expect(stats.snapshot().droppedQueueFull).toBe(0);
    // Each scope of each batch took a 256 KB buffer before: 256 MB here.
    expect(retainedBufferBytes() - before).toBeLessThan(16 * MB);
    await processor.shutdown();
  });
});
