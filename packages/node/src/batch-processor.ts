import { TraceFlags } from '@tracewire/core';
import { suppressTracing } from './context.js';
import { withDeadline } from './deadline.js';
import { rateLimitedWarn } from './exporters/failure-warning.js';
import { encodesOnEnd, SpanArrayBatch, type SpanBatch } from './span-batch.js';
import {
  beginExporterShutdown,
  type ExportResult,
  type ReadableSpan,
  type SpanExporter,
} from './span-data.js';
import type { SpanProcessor } from './span-processor.js';
import { TracerStats } from './stats.js';
import { timerDelay } from './timer-delay.js';

/**
 * Defaults are the OpenTelemetry SDK spec's Batching processor defaults (and the `OTEL_BSP_*` variables'), except
 * `scheduledDelayMillis`: 1000 ms rather than 5000, so a quiet service's traces show up within a second; under load
 * batches leave when full anyway.
 */
export interface BatchSpanProcessorOptions {
  /** Spans held before new ones are dropped. Default 2048. */
  maxQueueSize?: number | undefined;
  /** Spans per export call. Default 512, or `maxQueueSize` when that is smaller; must not exceed `maxQueueSize`. */
  maxExportBatchSize?: number | undefined;
  /** Longest a span waits for a batch to fill. Default 1000 ms. */
  scheduledDelayMillis?: number | undefined;
  /**
   * How long one export may run. The processor cannot cancel an export, so the exporter must end its own by then:
   * the OTLP and Zipkin exporters `configure()` builds have their `timeoutMillis` capped at this, and abort their
   * request when it passes. An export still running 1 s after it (an exporter that ignores it) is abandoned, its
   * spans counted as failed, and the next one starts; give an exporter you build yourself a timeout no longer than
   * this, or the collector may see more than `maxConcurrentExports` requests at once. Also the deadline of
   * `forceFlush()`. Default 30000 ms.
   */
  exportTimeoutMillis?: number | undefined;
  /** Export calls in flight at once. Default 1. */
  maxConcurrentExports?: number | undefined;
  /** How long `shutdown()` spends delivering what is queued. Default `exportTimeoutMillis`. */
  shutdownTimeoutMillis?: number | undefined;
  /** Where the "queue full, spans dropped" warning goes (at most once every 5 minutes). Default `console.warn`. */
  warn?: ((message: string) => void) | undefined;
}

export const DEFAULT_EXPORT_TIMEOUT_MILLIS = 30_000;
/**
 * How much longer than `exportTimeoutMillis` an export is waited for. An exporter timing itself out at the same
 * deadline starts its timer a moment after ours (encoding, gzip): waiting that moment lets it settle, request
 * aborted, before the next export starts, and lets its own result be counted. Only an exporter that ignores the
 * deadline is abandoned, and with it running the collector may see one more request than `maxConcurrentExports`.
 */
const ABANDON_GRACE_MILLIS = 1000;

/**
 * The longest `Retry-After` honoured: 60 s, past any throttle a collector or vendor gateway asks for in practice. A
 * longer one (a misconfigured proxy, an HTTP-date skewed by a wrong clock) would otherwise silence tracing for as
 * long while the queue drops everything; after 60 s one batch goes out and the receiver can ask again.
 */
const MAX_RETRY_AFTER_MILLIS = 60_000;

const FAILED_TIMEOUT: ExportResult = { code: 1, error: new Error('export timed out') };

/**
 * Takes ended spans off the request's path: `onEnd` only adds to a bounded queue of batches (encoding the span first
 * when the exporter's format allows it); batches leave on an unref'd timer or as soon as one fills. A full queue
 * drops the new span (counted); a failing exporter is counted, never thrown. An export the receiver refused with
 * `Retry-After` holds the next ones until that interval has passed (at most 60 s); spans wait in the queue meanwhile.
 */
export class BatchSpanProcessor implements SpanProcessor {
  private readonly maxQueueSize: number;
  private readonly maxExportBatchSize: number;
  private readonly scheduledDelayMillis: number;
  private readonly exportTimeoutMillis: number;
  private readonly maxConcurrentExports: number;
  private readonly shutdownTimeoutMillis: number;
  private readonly warn: (message: string) => void;
  private readonly newBatch: () => SpanBatch;
  private readonly exportOne: (batch: SpanBatch) => Promise<ExportResult>;
  /** The exporter's synchronous delivery, for an exit with no event loop left; undefined when it has none. */
  private readonly exportOneSync: ((batch: SpanBatch, timeoutMillis: number) => ExportResult) | undefined;
  /** Full batches waiting for an export slot, oldest first. */
  private full: SpanBatch[] = [];
  /** The batch ended spans go into: it leaves when full, or when the timer fires. */
  private open: SpanBatch | undefined;
  /** Spans in `full` and `open`. */
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Epoch ms before which no export starts: the receiver answered an export with `Retry-After`. */
  private resumeAt = 0;
  private shutdownPromise: Promise<void> | undefined;
  /** Running totals of spans queued and taken for export, so a flush knows when what it was asked for has left. */
  private enqueued = 0;
  private dequeued = 0;

  constructor(
    private readonly exporter: SpanExporter,
    options: BatchSpanProcessorOptions = {},
    readonly stats: TracerStats = new TracerStats(),
  ) {
    this.maxQueueSize = positiveInteger('maxQueueSize', options.maxQueueSize ?? 2048);
    // OpenTelemetry SDK, "Batching processor": the batch size must be <= the queue size, so a smaller queue given
    // alone lowers the default batch size instead of conflicting with it.
    this.maxExportBatchSize = positiveInteger(
      'maxExportBatchSize',
      options.maxExportBatchSize ?? Math.min(512, this.maxQueueSize),
    );
    if (this.maxExportBatchSize > this.maxQueueSize) {
      throw new RangeError(
        `maxExportBatchSize (${this.maxExportBatchSize}) must not exceed maxQueueSize (${this.maxQueueSize})`,
      );
    }
    this.scheduledDelayMillis = nonNegativeNumber(
      'scheduledDelayMillis',
      options.scheduledDelayMillis ?? 1000,
    );
    this.exportTimeoutMillis = positiveNumber(
      'exportTimeoutMillis',
      options.exportTimeoutMillis ?? DEFAULT_EXPORT_TIMEOUT_MILLIS,
    );
    this.maxConcurrentExports = positiveInteger('maxConcurrentExports', options.maxConcurrentExports ?? 1);
    this.shutdownTimeoutMillis = positiveNumber(
      'shutdownTimeoutMillis',
      options.shutdownTimeoutMillis ?? this.exportTimeoutMillis,
    );
    this.warn = rateLimitedWarn(options.warn);
    if (encodesOnEnd(exporter)) {
      this.newBatch = () => exporter.newEncodedBatch();
      this.exportOne = (batch) => exporter.exportEncoded(batch);
      this.exportOneSync = (batch, timeoutMillis) => exporter.exportEncodedSync(batch, timeoutMillis);
    } else {
      this.newBatch = () => new SpanArrayBatch();
      this.exportOne = (batch) => exporter.export((batch as SpanArrayBatch).spans);
      this.exportOneSync =
        exporter.exportSync === undefined
          ? undefined
          : (batch, timeoutMillis) => exporter.exportSync!((batch as SpanArrayBatch).spans, timeoutMillis);
    }
  }

  /** Spans waiting to be exported. */
  get queueLength(): number {
    return this.queued;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.shutdownPromise !== undefined) {
      this.stats.droppedShutdown++;
      return;
    }
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.maxQueueSize) {
      this.stats.droppedQueueFull++;
      this.warnQueueFull();
      return;
    }
    this.open ??= this.newBatch();
    const open = this.open;
    // A span that cannot be encoded throws here with the batch unchanged; the tracer counts the throw.
    open.add(span);
    this.queued++;
    this.enqueued++;
    if (open.length >= this.maxExportBatchSize) {
      this.full.push(open);
      this.open = undefined;
      this.exportFullBatches();
    }
    if (this.queued > 0 && this.timer === undefined) this.armTimer();
  }

  /** Exports what is queued, then lets the exporter finish what it holds, both within one `exportTimeoutMillis`. */
  async forceFlush(): Promise<void> {
    const endsAt = Date.now() + this.exportTimeoutMillis;
    // An export that hangs must not hang the app's flush (nor the process, which Tracer#forceFlush keeps alive
    // until it returns), and the exporter's forceFlush only gets what is left: it would otherwise wait for the same
    // hung export a second time.
    await withDeadline(() => this.drain(endsAt), this.exportTimeoutMillis);
    const exporter = this.exporter;
    if (exporter.forceFlush === undefined) return;
    await withDeadline(() => exporter.forceFlush?.(), Math.max(0, endsAt - Date.now()));
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.runShutdown();
    return this.shutdownPromise;
  }

  /** Delivers what is queued and shuts the exporter down, both within one `shutdownTimeoutMillis`. */
  private async runShutdown(): Promise<void> {
    this.clearTimer();
    beginExporterShutdown(this.exporter);
    const endsAt = Date.now() + this.shutdownTimeoutMillis;
    await withDeadline(() => this.drain(endsAt), this.shutdownTimeoutMillis);
    this.stats.droppedShutdown += this.queued;
    this.queued = 0;
    this.full = [];
    this.open = undefined;
    // What is left of the same deadline: an exporter whose shutdown never settles must not hold the app's past it.
    await withDeadline(() => this.exporter.shutdown(), Math.max(0, endsAt - Date.now()));
  }

  /**
   * Every queued batch, oldest first, through the exporter's synchronous delivery, all within `timeoutMillis`. After
   * a failed one the rest are not tried (the collector that refused or timed out one would the next); they count as
   * failed exports, and with an exporter that cannot deliver synchronously everything counts as dropped at shutdown.
   * Exports already under way are left to finish or die with the process: sending their spans again could
   * duplicate them.
   */
  exportQueuedSync(timeoutMillis: number): void {
    this.clearTimer();
    const endsAt = Date.now() + timeoutMillis;
    // The spans of exports under way are older than the queue's: the exporter delivers what it has not yet, first.
    try {
      suppressTracing(() => this.exporter.forceFlushSync?.(timeoutMillis));
    } catch {
      this.stats.instrumentationErrors++;
    }
    const batches = this.full;
    if (this.open !== undefined) batches.push(this.open);
    this.full = [];
    this.open = undefined;
    this.queued = 0;
    const exportOneSync = this.exportOneSync;
    let failed = false;
    for (const batch of batches) {
      this.dequeued += batch.length;
      const left = endsAt - Date.now();
      if (exportOneSync === undefined) {
        this.stats.droppedShutdown += batch.length;
        continue;
      }
      if (failed || left <= 0) {
        this.stats.droppedExportFailed += batch.length;
        continue;
      }
      let result: ExportResult;
      try {
        result = suppressTracing(() => exportOneSync(batch, left));
      } catch (error) {
        result = { code: 1, error: error instanceof Error ? error : new Error(String(error)) };
      }
      this.count(result, batch);
      failed = result?.code !== 0;
    }
  }

  /**
   * Exports every span queued before the call, within the concurrency limit, and waits until those have left. A
   * `Retry-After` pause is waited out only when it ends before `endsAt`, the caller's deadline.
   */
  private async drain(endsAt: number): Promise<void> {
    // Spans that keep arriving during a flush are the timer's business: a flush under load must still end.
    const target = this.enqueued;
    while (this.dequeued < target && this.queued > 0) {
      if (this.mayStart()) this.startExport();
      else if (this.inFlight.size > 0) await Promise.race(this.inFlight);
      else {
        // Nothing in flight, so a Retry-After pause is what holds the next export.
        if (this.resumeAt >= endsAt) break;
        await new Promise((resolve) => setTimeout(resolve, timerDelay(this.resumeAt - Date.now())).unref());
      }
    }
    await Promise.all(this.inFlight);
  }

  /** Whether another export may start now: a free slot, and no `Retry-After` pause running. */
  private mayStart(): boolean {
    return this.inFlight.size < this.maxConcurrentExports && Date.now() >= this.resumeAt;
  }

  private exportFullBatches(): void {
    while (this.full.length > 0 && this.mayStart()) this.startExport();
  }

  private warnQueueFull(): void {
    // Through rateLimitedWarn, which keeps a throwing warn function from failing the app's request.
    this.warn(
      `tracewire: the span queue is full (${this.maxQueueSize} spans): spans end faster than the exporter delivers ` +
        'them, so new spans are dropped and counted in tracer.stats.droppedQueueFull. A collector that is down or ' +
        'slow does this too (see any line about it); if exports are not failing, raise batch.maxQueueSize ' +
        '(OTEL_BSP_MAX_QUEUE_SIZE) or sample less. This is reported at most once every 5 minutes.',
    );
  }

  private armTimer(): void {
    // During a Retry-After pause the queue waits for its end (a full queue drops new spans, counted as ever).
    const delay = Math.max(this.scheduledDelayMillis, this.resumeAt - Date.now());
    // Created under suppressTracing so the timer does not hold on to the request context that ended this span.
    this.timer = suppressTracing(() =>
      setTimeout(() => {
        this.timer = undefined;
        while (this.queued > 0 && this.mayStart()) this.startExport();
        // With every slot busy, the export that ends first arms the timer again (startExport): re-armed here, a
        // short delay would wake the process every few ms for as long as a slow export runs.
        if (this.queued > 0 && this.inFlight.size < this.maxConcurrentExports) this.armTimer();
      }, timerDelay(delay)),
    );
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends the oldest batch: a full one if any, else the open one. Only called with spans queued. */
  private startExport(): void {
    let batch = this.full.shift();
    if (batch === undefined) {
      batch = this.open!;
      this.open = undefined;
    }
    this.queued -= batch.length;
    this.dequeued += batch.length;
    const done: Promise<void> = this.exportBatch(batch).then(() => {
      this.inFlight.delete(done);
      if (this.shutdownPromise !== undefined) return;
      this.exportFullBatches();
      if (this.queued > 0 && this.timer === undefined) this.armTimer();
    });
    this.inFlight.add(done);
  }

  private count(result: ExportResult | undefined, batch: SpanBatch): void {
    if (result?.code === 0) {
      const rejected = Math.min(result.rejectedSpans ?? 0, batch.length);
      this.stats.spansExported += batch.length - rejected;
      this.stats.droppedRejected += rejected;
    } else {
      this.stats.exportFailures++;
      this.stats.droppedExportFailed += batch.length;
    }
  }

  private async exportBatch(batch: SpanBatch): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<ExportResult>((resolve) => {
      timeout = setTimeout(
        () => resolve(FAILED_TIMEOUT),
        timerDelay(this.exportTimeoutMillis + ABANDON_GRACE_MILLIS),
      );
      timeout.unref();
    });
    let result: ExportResult;
    try {
      result = await Promise.race([suppressTracing(() => this.exportOne(batch)), timedOut]);
    } catch (error) {
      result = { code: 1, error: error instanceof Error ? error : new Error(String(error)) };
    } finally {
      clearTimeout(timeout);
    }
    this.count(result, batch);
    if (result?.code !== 0) {
      // OTLP/HTTP spec: the client SHOULD honour the waiting interval a throttling 429/503 names in Retry-After.
      // The exporter returns it when it is longer than its own timeout; the next batch must wait for it too.
      const retryAfterMs = result?.retryAfterMs;
      if (typeof retryAfterMs === 'number' && retryAfterMs > 0) {
        const resumeAt = Date.now() + Math.min(retryAfterMs, MAX_RETRY_AFTER_MILLIS);
        this.resumeAt = Math.max(this.resumeAt, resumeAt);
      }
    }
  }
}

function positiveInteger(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${option} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonNegativeNumber(option: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${option} must be a number of milliseconds >= 0, got ${value}`);
  }
  return value;
}

function positiveNumber(option: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${option} must be a positive number of milliseconds, got ${value}`);
  }
  return value;
}
