import type { ExportResult, ReadableSpan, SpanExporter } from '../span-data.js';
import { fitColumns } from './terminal-columns.js';

export interface ConsoleExporterOptions {
  /** Where each rendered trace goes. Default `process.stdout.write`. */
  write?: ((text: string) => void) | undefined;
}

const SERVICE_WIDTH = 12;
const NAME_WIDTH = 32;
const BAR_WIDTH = 30;
const MAX_DEPTH_INDENT = 12;
const MESSAGE_WIDTH = 26;
const LINE_WIDTH = 120;
/** Traces whose root never ends (or ended before we saw its children) must not pile up. */
const MAX_BUFFERED_TRACES = 1000;
/** Nor the spans of one such trace: a worker loop's or a stream's root can stay open for the process's life. */
const MAX_BUFFERED_SPANS = 10_000;

/**
 * Prints each finished trace as an indented waterfall, at most 120 columns wide (90 without an error message):
 *
 * ```
 * trace 4bf92f3577b34da6a3ce929d0e0e4736 · 3 spans · 12.40 ms
 * checkout     GET /orders/:id                  |██████████████████████████████|   12.40 ms
 * checkout       SELECT orders                  |   ███████                    |    3.10 ms  ✓
 * payments       POST /charge                   |          ████████████        |    5.00 ms  ✗ timed out
 * ```
 *
 * A trace is printed when its local root (no parent, or a parent in another process) ends; spans still buffered are
 * printed on `forceFlush()`/`shutdown()`.
 */
export class ConsoleExporter implements SpanExporter {
  private readonly write: (text: string) => void;
  private readonly traces = new Map<string, ReadableSpan[]>();
  private bufferedSpans = 0;

  constructor(options: ConsoleExporterOptions = {}) {
    this.write = options.write ?? writeToStdout;
  }

  export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    return Promise.resolve(this.take(spans));
  }

  /** At an exit with no event loop left: these spans, then every trace still buffered, as far as each got. */
  exportSync(spans: readonly ReadableSpan[]): ExportResult {
    const result = this.take(spans);
    this.printAll();
    return result;
  }

  private take(spans: readonly ReadableSpan[]): ExportResult {
    try {
      for (const span of spans) {
        const traceId = span.spanContext().traceId;
        let buffered = this.traces.get(traceId);
        if (buffered === undefined) {
          buffered = [];
          this.traces.set(traceId, buffered);
        }
        buffered.push(span);
        this.bufferedSpans++;
        if (isLocalRoot(span)) this.print(traceId);
      }
      // The oldest trace is printed as far as it got; its later spans start a new part.
      while (this.traces.size > MAX_BUFFERED_TRACES || this.bufferedSpans > MAX_BUFFERED_SPANS) {
        const oldest = this.traces.keys().next().value as string;
        this.print(oldest);
      }
      return { code: 0 };
    } catch (error) {
      return { code: 1, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  forceFlush(): Promise<void> {
    this.printAll();
    return Promise.resolve();
  }

  /** At an exit with no event loop left: every trace still buffered, as far as it got. */
  forceFlushSync(): void {
    this.printAll();
  }

  private printAll(): void {
    for (const traceId of [...this.traces.keys()]) {
      try {
        this.print(traceId);
      } catch {
        // A trace that cannot be drawn is dropped; the others still print, and the flush never rejects.
      }
    }
  }

  shutdown(): Promise<void> {
    return this.forceFlush();
  }

  private print(traceId: string): void {
    const spans = this.traces.get(traceId);
    this.traces.delete(traceId);
    if (spans === undefined) return;
    this.bufferedSpans -= spans.length;
    if (spans.length > 0) this.write(renderWaterfall(spans));
  }
}

function ignore(): void {}

/**
 * As `console.log` writes: stdout closed at the other end (`node app.js | head`) fails the write with EPIPE, which
 * an 'error' event would turn into a crash of the app when nothing listens for it. Traces are then lost, the app
 * keeps running. The write's callback runs before the event, so a listener added there is in time.
 */
function writeToStdout(text: string): void {
  const stdout = process.stdout;
  stdout.write(text, (error) => {
    if (error != null && stdout.listenerCount('error') === 0) stdout.once('error', ignore);
  });
}

function isLocalRoot(span: ReadableSpan): boolean {
  if (span.parentSpanId === undefined || span.parentIsRemote === true) return true;
  // Without the flag, the entry spans of a service (server, consumer) are the ones continuing a remote parent.
  return span.parentIsRemote === undefined && (span.kind === 1 || span.kind === 4);
}

/**
 * Renders one trace's spans, parents before children, siblings by start time. Spans no walk from a root reaches
 * (parents that name each other or themselves) are drawn as roots after the rest; each span is drawn once.
 */
export function renderWaterfall(spans: readonly ReadableSpan[]): string {
  if (spans.length === 0) return '';
  const ids = new Set(spans.map((span) => span.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const span of spans) {
    const own = span.spanContext().spanId;
    const parent =
      span.parentSpanId !== undefined && span.parentSpanId !== own && ids.has(span.parentSpanId)
        ? span.parentSpanId
        : undefined;
    const siblings = children.get(parent) ?? [];
    siblings.push(span);
    children.set(parent, siblings);
    start = Math.min(start, span.startTime);
    end = Math.max(end, span.endTime);
  }
  for (const siblings of children.values()) siblings.sort((a, b) => a.startTime - b.startTime);
  const total = Math.max(end - start, 1e-6);
  const traceId = spans[0]!.spanContext().traceId;
  const lines = [
    `trace ${traceId} · ${spans.length} span${spans.length === 1 ? '' : 's'} · ${formatMs(end - start)}`,
  ];

  // A stack rather than recursion: a trace thousands of spans deep must not overflow the call stack.
  const drawn = new Set<ReadableSpan>();
  const draw = (root: ReadableSpan): void => {
    const stack: [ReadableSpan, number][] = [[root, 0]];
    while (stack.length > 0) {
      const [span, depth] = stack.pop()!;
      if (drawn.has(span)) continue;
      drawn.add(span);
      lines.push(renderLine(span, depth, start, total));
      const kids = children.get(span.spanContext().spanId) ?? [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, depth + 1]);
    }
  };
  for (const root of children.get(undefined) ?? []) draw(root);
  if (drawn.size < spans.length) {
    for (const span of [...spans].sort((a, b) => a.startTime - b.startTime)) if (!drawn.has(span)) draw(span);
  }
  return `${lines.join('\n')}\n\n`;
}

function renderLine(span: ReadableSpan, depth: number, traceStart: number, total: number): string {
  const service = fitColumns(
    String(span.resource.attributes['service.name'] ?? 'unknown_service:node'),
    SERVICE_WIDTH,
  );
  const name = fitColumns(`${' '.repeat(Math.min(depth * 2, MAX_DEPTH_INDENT))}${span.name}`, NAME_WIDTH);
  const from = Math.min(BAR_WIDTH - 1, Math.floor(((span.startTime - traceStart) / total) * BAR_WIDTH));
  const to = Math.max(from + 1, Math.ceil(((span.endTime - traceStart) / total) * BAR_WIDTH));
  const bar =
    ' '.repeat(from) +
    '█'.repeat(Math.min(to, BAR_WIDTH) - from) +
    ' '.repeat(BAR_WIDTH - Math.min(to, BAR_WIDTH));
  const duration = formatMs(Math.max(0, span.endTime - span.startTime)).padStart(10);
  const line = `${service} ${name} |${bar}| ${duration}`;
  // In columns (service and name take exactly their widths, whatever their characters). A duration of 100 s or
  // more is wider than its column: the message gives up what it takes.
  const used = SERVICE_WIDTH + NAME_WIDTH + BAR_WIDTH + duration.length + 5;
  return line + statusMarker(span, Math.max(1, Math.min(MESSAGE_WIDTH, LINE_WIDTH - used - 4)));
}

function statusMarker(span: ReadableSpan, messageWidth: number): string {
  if (span.status.code === 2) {
    return `  ✗ ${fitColumns(span.status.message || 'ERROR', messageWidth).trimEnd()}`;
  }
  return span.status.code === 1 ? '  ✓' : '';
}

function formatMs(ms: number): string {
  return `${ms.toFixed(2)} ms`;
}
