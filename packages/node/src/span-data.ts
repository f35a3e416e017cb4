import type { SpanContext } from '@tracewire/core';

export type AttributeValue = string | number | boolean | string[] | number[] | boolean[];
export type Attributes = Record<string, AttributeValue>;

/** OpenTelemetry's SpanKind numbering (INTERNAL=0 .. CONSUMER=4); OTLP adds 1 on the wire. */
export const SpanKind = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

/** OpenTelemetry's status codes, same numbers as OTLP. */
export const SpanStatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;
export type SpanStatusCode = (typeof SpanStatusCode)[keyof typeof SpanStatusCode];

export interface SpanStatus {
  code: SpanStatusCode;
  message?: string | undefined;
}

export interface SpanEvent {
  name: string;
  /** Epoch milliseconds with sub-millisecond fraction. */
  time: number;
  attributes?: Attributes | undefined;
  droppedAttributesCount?: number | undefined;
}

export interface SpanLink {
  context: SpanContext;
  attributes?: Attributes | undefined;
  /** Attributes left out by the link attribute count limit (set by the span, as for events). */
  droppedAttributesCount?: number | undefined;
}

export interface InstrumentationScope {
  name: string;
  version?: string | undefined;
}

export interface Resource {
  attributes: Attributes;
}

/** A finished span as exporters see it. Times are epoch milliseconds with sub-millisecond fraction. */
export interface ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  spanContext(): SpanContext;
  readonly parentSpanId?: string | undefined;
  /** True when the parent came from another process (OTLP span flags bit 9; Zipkin and console use it to find the local root). */
  readonly parentIsRemote?: boolean | undefined;
  readonly startTime: number;
  readonly endTime: number;
  readonly attributes: Attributes;
  readonly events: readonly SpanEvent[];
  readonly links: readonly SpanLink[];
  readonly status: SpanStatus;
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  readonly droppedAttributesCount: number;
  readonly droppedEventsCount: number;
  readonly droppedLinksCount: number;
}

export const ExportResultCode = { SUCCESS: 0, FAILED: 1 } as const;
export interface ExportResult {
  code: (typeof ExportResultCode)[keyof typeof ExportResultCode];
  error?: Error | undefined;
  /** Set when the receiver asked us to try again later (HTTP 429/503 Retry-After), in ms. */
  retryAfterMs?: number | undefined;
  /** Spans the receiver accepted the request for but rejected (OTLP `partialSuccess.rejectedSpans`). */
  rejectedSpans?: number | undefined;
}

/** Tells `exporter` its shutdown has started (`SpanExporter#beginShutdown`); what it throws is ignored. */
export function beginExporterShutdown(exporter: SpanExporter): void {
  try {
    exporter.beginShutdown?.();
  } catch {
    // An exporter's failure here must not keep the processor from delivering what is queued.
  }
}

/** Sends finished spans somewhere. `export` must never throw; failures resolve with FAILED. */
export interface SpanExporter {
  export(spans: readonly ReadableSpan[]): Promise<ExportResult>;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
  /**
   * Told as the processor's shutdown starts, before it exports what is queued: what it exports from then on is the
   * last, and waiting for what cannot come (a collector that refuses connections, retried) only delays the app's
   * exit. Optional; the built-in HTTP exporters stop retrying refused connections.
   */
  beginShutdown?(): void;
  /**
   * Delivers `spans` before returning, within `timeoutMillis`: what the process hands over as it exits without a
   * turn of the event loop left (`process.exit()`, an uncaught exception). Optional; the built-in exporters have it.
   * Spans queued for an exporter without it are lost at such an exit.
   */
  exportSync?(spans: readonly ReadableSpan[], timeoutMillis: number): ExportResult;
  /** At such an exit, delivers synchronously what earlier exports have not delivered yet, within `timeoutMillis`. */
  forceFlushSync?(timeoutMillis: number): void;
}
