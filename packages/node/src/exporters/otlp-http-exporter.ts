import type { ExportResult, ReadableSpan, SpanExporter } from '../span-data.js';
import { oneOf } from './exporter-options.js';
import { type HttpSenderOptions, HttpSpanSender } from './http-span-sender.js';
import { toOtlpJson } from './otlp-json.js';
import { encodeOtlpProtoInSlices } from './otlp-proto.js';
import { parsePartialSuccess } from './otlp-response.js';
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
/** A 512-span batch of server spans is about 180 KB. */
const INITIAL_BUFFER = 256 * 1024;
const MAX_IDLE_WRITERS = 2;

/** Sends spans to an OTLP/HTTP receiver (a collector, or the tracewire viewer). */
export class OtlpHttpExporter implements SpanExporter {
  readonly url: URL;
  readonly protocol: 'http/json' | 'http/protobuf';
  private readonly compression: 'gzip' | 'none';
  private readonly sender: HttpSpanSender;
  /**
   * Encoding buffers of finished exports, reused so a batch is encoded in place instead of into fresh
   * ArrayBuffers (about 800 KB allocated, zeroed and copied per 512-span batch before). One per export in flight.
   */
  private readonly idleWriters: ProtoWriter[] = [];

  constructor(options: OtlpHttpExporterOptions = {}) {
    this.sender = new HttpSpanSender('OTLP exporter', 'http://localhost:4318/v1/traces', options);
    this.url = this.sender.url;
    this.protocol = oneOf('protocol', options.protocol ?? 'http/protobuf', PROTOCOLS);
    this.compression = oneOf('compression', options.compression ?? 'none', COMPRESSIONS);
  }

  export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    return this.sender.track(() => this.send(spans));
  }

  private async send(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    const json = this.protocol === 'http/json';
    const writer = json ? undefined : (this.idleWriters.pop() ?? new ProtoWriter(INITIAL_BUFFER));
    const body =
      writer === undefined
        ? new TextEncoder().encode(JSON.stringify(toOtlpJson(spans)))
        : await encodeOtlpProtoInSlices(spans, writer);
    const delivery = await this.sender.post(
      body,
      json ? 'application/json' : 'application/x-protobuf',
      this.compression,
    );
    // Only a delivered body is certainly no longer being written to a socket; after a failure the buffer is let go.
    if (delivery.ok && writer !== undefined && this.idleWriters.length < MAX_IDLE_WRITERS) {
      this.idleWriters.push(writer);
    }
    if (!delivery.ok) return delivery.result;
    const partial = parsePartialSuccess(delivery.responseBody, this.protocol);
    return partial ? { code: 0, rejectedSpans: Math.min(partial.rejectedSpans, spans.length) } : { code: 0 };
  }

  forceFlush(): Promise<void> {
    return this.sender.flush();
  }

  shutdown(): Promise<void> {
    return this.sender.shutdown();
  }
}
