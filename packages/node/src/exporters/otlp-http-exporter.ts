import type { EncodingSpanExporter, SpanBatch } from '../span-batch.js';
import type { ExportResult, ReadableSpan } from '../span-data.js';
import { oneOf } from './exporter-options.js';
import { type HttpSenderOptions, HttpSpanSender, OVERRIDDEN_EXPORT } from './http-span-sender.js';
import { printable } from './log-text.js';
import { toOtlpJson } from './otlp-json.js';
import { encodeOtlpProto, encodeOtlpProtoInSlices } from './otlp-proto.js';
import { OtlpProtoBatch } from './otlp-proto-batch.js';
import { readOtlpAnswer } from './otlp-response.js';
import { ProtoWriter } from './proto-writer.js';

export interface OtlpHttpExporterOptions extends HttpSenderOptions {
  /** Full traces URL. Default `http://localhost:4318/v1/traces` (OTLP spec default endpoint). */
  url?: string | undefined;
  /** Default `'none'`. */
  compression?: 'gzip' | 'none' | undefined;
  /** Default `'http/protobuf'`, the OTLP spec's default for OTLP/HTTP. */
  protocol?: 'http/json' | 'http/protobuf' | undefined;
}

const PROTOCOLS = ['http/json', 'http/protobuf'] as const;
const COMPRESSIONS = ['gzip', 'none'] as const;
/**
 * A new buffer's size. A batch takes one per resource and scope it holds (spans are encoded into their scope's as
 * they end), and a batch may hold hundreds of scopes (one per `getTracer(name)`): each starts small and doubles as
 * its spans need. A 512-span batch of server spans, about 180 KB, grows one to 256 KB once, then reuses it.
 */
const INITIAL_BUFFER = 4 * 1024;
/** A request body and a batch's spans in flight, and the next batch filling up. */
const MAX_IDLE_WRITERS = 4;
/**
 * A buffer that grew past this for an unusually large batch (spans with big attributes) is let go rather than kept
 * for the process's life: idle buffers pin at most MAX_IDLE_WRITERS times this.
 */
const MAX_IDLE_WRITER_BYTES = 2 * 1024 * 1024;

/**
 * Sends spans to an OTLP/HTTP receiver (a collector, or the tracewire viewer). With protobuf (the default) the batch
 * processor has each span encoded as it ends (`newEncodedBatch`); `export` encodes whole batches, for JSON and for
 * other callers.
 */
export class OtlpHttpExporter implements EncodingSpanExporter {
  readonly url: URL;
  readonly protocol: 'http/json' | 'http/protobuf';
  readonly encodesSpansOnEnd: boolean;
  private readonly compression: 'gzip' | 'none';
  private readonly sender: HttpSpanSender;
  /**
   * Encoding buffers, reused so spans are encoded in place instead of into fresh ArrayBuffers (about 800 KB
   * allocated, zeroed and copied per 512-span batch before).
   */
  private readonly idleWriters: ProtoWriter[] = [];
  private readonly takeWriter = (): ProtoWriter => this.idleWriters.pop() ?? new ProtoWriter(INITIAL_BUFFER);

  constructor(options: OtlpHttpExporterOptions = {}) {
    this.sender = new HttpSpanSender('OTLP exporter', 'http://localhost:4318/v1/traces', options);
    this.url = this.sender.url;
    this.protocol = oneOf('protocol', options.protocol ?? 'http/protobuf', PROTOCOLS);
    this.compression = oneOf('compression', options.compression ?? 'none', COMPRESSIONS);
    // A subclass that overrides `export` (to filter or change spans) must still see every span.
    this.encodesSpansOnEnd =
      this.protocol === 'http/protobuf' && this.export === OtlpHttpExporter.prototype.export;
  }

  export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    return this.sender.track(() => this.send(spans));
  }

  newEncodedBatch(): SpanBatch {
    return new OtlpProtoBatch(this.takeWriter);
  }

  exportEncoded(batch: SpanBatch): Promise<ExportResult> {
    return this.sender.track(async () => {
      const encoded = batch as OtlpProtoBatch;
      const body = this.takeWriter();
      encoded.writeRequest(body);
      for (const writer of encoded.writers()) this.giveBack(writer);
      return this.deliver(body.written(), body, encoded.length);
    });
  }

  exportSync(spans: readonly ReadableSpan[], timeoutMillis: number): ExportResult {
    // A subclass that overrides `export` (to filter or redact) must see the spans at the exit too.
    if (this.export !== OtlpHttpExporter.prototype.export) return OVERRIDDEN_EXPORT;
    const body =
      this.protocol === 'http/json'
        ? new TextEncoder().encode(JSON.stringify(toOtlpJson(spans)))
        : encodeOtlpProto(spans);
    return this.sender.postSync(body, this.contentType, this.compression, timeoutMillis);
  }

  exportEncodedSync(batch: SpanBatch, timeoutMillis: number): ExportResult {
    const encoded = batch as OtlpProtoBatch;
    const body = this.takeWriter();
    encoded.writeRequest(body);
    for (const writer of encoded.writers()) this.giveBack(writer);
    return this.sender.postSync(body.written(), this.contentType, this.compression, timeoutMillis);
  }

  private get contentType(): string {
    return this.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
  }

  private async send(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    if (this.protocol === 'http/json') {
      return this.deliver(
        new TextEncoder().encode(JSON.stringify(toOtlpJson(spans))),
        undefined,
        spans.length,
      );
    }
    const writer = this.takeWriter();
    const encoded = encodeOtlpProtoInSlices(spans, writer);
    return this.deliver(encoded instanceof Uint8Array ? encoded : await encoded, writer, spans.length);
  }

  /** Posts a body (`writer`'s bytes, for protobuf) and reads the receiver's partial success. */
  private async deliver(
    body: Uint8Array,
    writer: ProtoWriter | undefined,
    spanCount: number,
  ): Promise<ExportResult> {
    const delivery = await this.sender.post(body, this.contentType, this.compression);
    // Only a delivered body is certainly no longer being written to a socket; after a failure the buffer is let go.
    if (delivery.ok && writer !== undefined) this.giveBack(writer);
    if (!delivery.ok) return delivery.result;
    const answer = readOtlpAnswer(delivery.responseBody, this.protocol, delivery.contentType);
    if (answer.kind === 'ok') return { code: 0 };
    const at = this.sender.shownUrl;
    if (answer.kind === 'unreadable') {
      // Counted as exported (the receiver said 2xx), but worth a look: a login page or another proxy's answer.
      this.sender.notice(
        `tracewire: ${at} answered an export with ${delivery.contentType ?? 'a body'} that is not an OTLP ` +
          "response: is it the collector's OTLP/HTTP endpoint? Spans sent there may not reach it.",
      );
      return { code: 0 };
    }
    // OTLP §Partial Success: error_message is how a receiver explains rejected spans, or warns with none rejected.
    const rejected = Math.min(answer.partial.rejectedSpans, spanCount);
    const said = answer.partial.errorMessage === '' ? '' : `: ${printable(answer.partial.errorMessage, 300)}`;
    this.sender.notice(
      rejected > 0
        ? `tracewire: the collector at ${at} rejected ${rejected} of ${spanCount} spans${said}. They are ` +
            'counted in tracer.stats.droppedRejected; reported at most once every 5 minutes.'
        : `tracewire: the collector at ${at} took every span, with a warning${said}.`,
    );
    return { code: 0, rejectedSpans: rejected };
  }

  private giveBack(writer: ProtoWriter): void {
    if (this.idleWriters.length < MAX_IDLE_WRITERS && writer.capacity <= MAX_IDLE_WRITER_BYTES) {
      this.idleWriters.push(writer);
    }
  }

  forceFlush(): Promise<void> {
    return this.sender.flush();
  }

  forceFlushSync(timeoutMillis: number): void {
    this.sender.postUnfinishedSync(timeoutMillis);
  }

  beginShutdown(): void {
    this.sender.beginShutdown();
  }

  shutdown(): Promise<void> {
    return this.sender.shutdown();
  }
}
