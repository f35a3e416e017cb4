/** Counters a user can read through `tracer.stats`. Plain numbers: incrementing one costs nothing. */
export class TracerStats {
  spansStarted = 0;
  spansEnded = 0;
  /**
   * Spans the batch processors delivered, summed over exporters: with two exporters a span counts twice, and the
   * drop counters count per exporter too. A `SimpleSpanProcessor` of your own counts nothing here.
   */
  spansExported = 0;
  /** Spans dropped because the export queue was full. */
  droppedQueueFull = 0;
  /** Spans in batches the exporter finally failed to deliver. */
  droppedExportFailed = 0;
  /** Spans still queued when shutdown's deadline passed. */
  droppedShutdown = 0;
  /** Spans the collector received but rejected (OTLP partial success). */
  droppedRejected = 0;
  exportFailures = 0;
  /** Incoming headers or outgoing calls that instrumentation could not handle and skipped. */
  instrumentationErrors = 0;

  snapshot(): Readonly<Omit<TracerStats, 'snapshot'>> {
    return { ...this };
  }
}
