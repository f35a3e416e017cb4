import http from 'node:http';
import https from 'node:https';
import type { ExportResult, ReadableSpan, SpanExporter } from '../span-data.js';
import { oneOf, parseUrl, positive } from './exporter-options.js';
import { FailureWarning } from './failure-warning.js';
import { httpSend, type RetryPolicy } from './http-send.js';
import { toOtlpJson } from './otlp-json.js';
import { encodeOtlpProto } from './otlp-proto.js';
import { parsePartialSuccess } from './otlp-response.js';

export interface OtlpHttpExporterOptions {
  /** Full traces URL. Default `http://localhost:4318/v1/traces` (OTLP spec default endpoint). */
  url?: string | undefined;
  /** Extra request headers, e.g. an API key. Default none. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Budget for one export, retries included. Default 10000 ms (`OTEL_EXPORTER_OTLP_TIMEOUT`'s default). */
  timeoutMillis?: number | undefined;
  /** Default `'none'`. */
  compression?: 'gzip' | 'none' | undefined;
  /** Default `'http/protobuf'`, the OTLP spec's default for OTLP/HTTP. */
  protocol?: 'http/json' | 'http/protobuf' | undefined;
  /** Backoff between retries; default 5 attempts, 1 s doubling-ish (×1.5) up to 5 s. */
  retry?: Partial<RetryPolicy> | undefined;
  /** Where the one "cannot reach the collector" warning goes. Default `console.warn`. */
  warn?: ((message: string) => void) | undefined;
}

const PROTOCOLS = ['http/json', 'http/protobuf'] as const;
const COMPRESSIONS = ['gzip', 'none'] as const;

/** Sends spans to an OTLP/HTTP receiver (a collector, or the tracewire viewer). */
export class OtlpHttpExporter implements SpanExporter {
  readonly url: URL;
  readonly protocol: 'http/json' | 'http/protobuf';
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMillis: number;
  private readonly compression: 'gzip' | 'none';
  private readonly retry: Partial<RetryPolicy> | undefined;
  private readonly warning: FailureWarning;
  private readonly agent: http.Agent;
  private readonly pending = new Set<Promise<ExportResult>>();
  private isShutdown = false;

  constructor(options: OtlpHttpExporterOptions = {}) {
    this.url = parseUrl('url', options.url ?? 'http://localhost:4318/v1/traces');
    this.protocol = oneOf('protocol', options.protocol ?? 'http/protobuf', PROTOCOLS);
    this.compression = oneOf('compression', options.compression ?? 'none', COMPRESSIONS);
    this.timeoutMillis = positive('timeoutMillis', options.timeoutMillis ?? 10_000);
    this.headers = { ...options.headers };
    this.retry = options.retry;
    this.warning = new FailureWarning('OTLP exporter', this.url.href, options.warn);
    // Keep-alive: one TCP connection serves every batch; Node unrefs idle pooled sockets.
    const Agent = this.url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 4 });
  }

  export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    if (this.isShutdown) return Promise.resolve({ code: 1, error: new Error('exporter is shut down') });
    const result = this.send(spans);
    this.pending.add(result);
    void result.finally(() => this.pending.delete(result));
    return result;
  }

  private async send(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    try {
      const json = this.protocol === 'http/json';
      const body = json
        ? new TextEncoder().encode(JSON.stringify(toOtlpJson(spans)))
        : encodeOtlpProto(spans);
      const outcome = await httpSend(body, {
        url: this.url,
        headers: this.headers,
        contentType: json ? 'application/json' : 'application/x-protobuf',
        timeoutMillis: this.timeoutMillis,
        compression: this.compression,
        retry: this.retry,
        agent: this.agent,
        // Say at once that nothing listens, rather than after every retry has failed (the app may be gone by then).
        onFailedAttempt: (error, connectionRefused) => {
          if (connectionRefused) this.warning.failed(error, true);
        },
      });
      if (!outcome.ok) {
        this.warning.failed(outcome.error, outcome.connectionRefused);
        return { code: 1, error: outcome.error, retryAfterMs: outcome.retryAfterMs };
      }
      this.warning.succeeded();
      const partial = parsePartialSuccess(outcome.body, this.protocol);
      return partial
        ? { code: 0, rejectedSpans: Math.min(partial.rejectedSpans, spans.length) }
        : { code: 0 };
    } catch (error) {
      return { code: 1, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.pending);
  }

  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    this.isShutdown = true;
    await this.forceFlush();
    this.agent.destroy();
  }
}
