import {
  defaultPropagator,
  generateSpanId,
  generateTraceId,
  isSpanContextValid,
  type Propagator,
  type SpanContext,
  TraceFlags,
} from '@tracewire/core';
import { addBaggageAttributes } from './baggage-attributes.js';
import { recordAnswerStatus } from './client-status.js';
import { monotonicNow, rootClockAt } from './clock.js';
import { getActiveBaggage, getActiveContext, withSpan } from './context.js';
import { scopeKey, scopeOf } from './instrumentation-scope.js';
import { NonRecordingSpan, unsampledRoot } from './non-recording-span.js';
import { OpenSpanList } from './open-span-list.js';
import { holdProcessWhile } from './process-hold.js';
import { RecordingSpan, type SpanSink } from './recording-span.js';
import { detectResource, SDK_VERSION } from './resource.js';
import type { Sampler } from './sampler.js';
import { alwaysOn, shouldSampleCallerDecision } from './sampler.js';
import { parentBased } from './sampler-parent-based.js';
import { warnSamplerMisbehaved } from './sampler-warning.js';
import type { Span } from './span.js';
import {
  type Attributes,
  type InstrumentationScope,
  type Resource,
  SpanKind,
  type SpanLink,
  SpanStatusCode,
} from './span-data.js';
import { idWordsOf, keepNewTraceId } from './span-id-words.js';
import { DEFAULT_SPAN_LIMITS, type ResolvedSpanLimits, type SpanLimits } from './span-limits.js';
import type { SpanProcessor } from './span-processor.js';
import { TracerStats } from './stats.js';

export interface StartSpanOptions {
  /** Default INTERNAL. */
  kind?: SpanKind;
  attributes?: Attributes;
  links?: SpanLink[];
  /** Epoch milliseconds or a Date; default now. */
  startTime?: number | Date;
  /**
   * @internal `startTime` is a monotonic reading placed on the span's anchor (the OpenTelemetry API bridge's
   * `performance.now()` input), not a wall-clock time: the span ends on the anchor whatever the wall clock says.
   */
  startOnAnchor?: boolean;
  /** undefined → the active span's context is the parent; null → a new root; a SpanContext → that parent (remote or local). */
  parent?: SpanContext | null;
  /**
   * Ask the sampler as for a new trace even though there is a parent: the span keeps the parent's trace id and
   * parent span id, but the parent's sampled flag decides nothing (a public edge distrusting its callers).
   */
  sampleAsRoot?: boolean;
  /**
   * A sampling decision already made, taken instead of asking the sampler. An unsampled span with no parent still
   * gets ids, so its outgoing calls pass the deny on with sampled=0. Default: the sampler decides.
   */
  sampled?: boolean;
  /**
   * @internal For a span with no parent: the decision a caller sent without trace ids (B3 `b3: 0` on a proxy's
   * health check, `b3: 1`): a parent-based sampler takes it as a remote parent's flag, the other built-in samplers
   * ignore it, a custom one is not asked (`shouldSampleCallerDecision`). When tracing is off, a deny is passed on.
   */
  callerDecision?: boolean;
  /** With a sampled span: mark its context debug (B3 `d`, `X-B3-Flags: 1`), kept by its sampled children. */
  debug?: boolean;
  /**
   * The instrumentation scope (library name and version) the span is exported under, as OpenTelemetry's
   * `getTracer(name, version)` gives it. Default `@tracewire/node`.
   */
  scope?: InstrumentationScope;
}

export interface TracerConfig {
  /** Default: `detectResource()` (service name from the environment or package.json, SDK, host, process). */
  resource?: Resource;
  /** Default: core's `defaultPropagator`. */
  propagator?: Propagator;
  /** Default: `parentBased({ root: alwaysOn })`, as OpenTelemetry. */
  sampler?: Sampler;
  processors?: SpanProcessor[];
  spanLimits?: SpanLimits;
  stats?: TracerStats;
  /** Record nothing, but keep propagating the incoming context unchanged (`OTEL_SDK_DISABLED`). */
  disabled?: boolean;
  /** Runs synchronously when shutdown starts (removes signal listeners, uninstalls outgoing instrumentation). */
  onShutdown?: () => void;
  /** Baggage keys recorded as attributes on every span started under that baggage. Default none. */
  baggageAttributes?: readonly string[];
}

export type SpanCallback<T> = (span: Span) => T;

const INVALID_SPAN_CONTEXT: SpanContext = Object.freeze({
  traceId: '00000000000000000000000000000000',
  spanId: '0000000000000000',
  traceFlags: TraceFlags.NONE,
});

const SCOPE: InstrumentationScope = Object.freeze({ name: '@tracewire/node', version: SDK_VERSION });

/**
 * Open SERVER and CLIENT spans tracked for shutdown, each list up to this many. tracewire's own always end, and
 * shutdown ends those still open; the cap keeps a span an app starts with those kinds and never ends from growing a
 * list without bound.
 */
const MAX_TRACKED_OPEN_SPANS = 8192;

/**
 * SERVER and CLIENT spans of other scopes (an app's or a library's, through the OpenTelemetry API bridge) are kept
 * apart, and only waited for when `configure()` replaces the tracer (a background job's query ending after the
 * reload is still exported); shutdown leaves them as OpenTelemetry's SDK does. Some libraries never end theirs (pg's
 * cursors and streams, ioredis on a closed connection): ended at shutdown, each was exported as a failed span as long
 * as the process had run. This smaller cap bounds what those hold (about 0.5 MB), and a reload then waits its 30 s.
 */
const MAX_TRACKED_ELSEWHERE = 1024;

/** Scopes kept with a sink of their own; past this, spans of further scopes share sinks made on the spot. */
const MAX_CACHED_SCOPES = 256;

/** How often a retired tracer looks whether its requests in flight have finished. */
const RETIRE_POLL_MILLIS = 50;

/** Starts spans, decides sampling, and hands ended spans to its processors. */
export class Tracer {
  readonly propagator: Propagator;
  readonly resource: Resource;
  readonly sampler: Sampler;
  /** Live counters; `stats.snapshot()` copies them. */
  readonly stats: TracerStats;
  readonly disabled: boolean;
  /** Baggage keys each span records as attributes (`configure({ baggageAttributes })`). */
  readonly baggageAttributes: readonly string[];
  readonly #processors: SpanProcessor[];
  readonly #sink: SpanSink;
  #onShutdown: (() => void) | undefined;
  readonly #open = new OpenSpanList<RecordingSpan>();
  /** Open SERVER and CLIENT spans of other scopes: waited for by a replaced tracer, never ended by shutdown. */
  readonly #openElsewhere = new OpenSpanList<RecordingSpan>();
  readonly #scopedSinks = new Map<string, SpanSink>();
  /** Tracers this one replaced that are still finishing their requests (`replaces`). */
  readonly #retiring = new Set<Tracer>();
  #shutdown: Promise<void> | undefined;

  constructor(config: TracerConfig = {}) {
    this.propagator = config.propagator ?? defaultPropagator;
    this.resource = config.resource ?? detectResource();
    this.sampler = config.sampler ?? parentBased({ root: alwaysOn });
    this.stats = config.stats ?? new TracerStats();
    this.disabled = config.disabled === true;
    this.baggageAttributes = Object.freeze([...(config.baggageAttributes ?? [])]);
    this.#processors = config.processors ? [...config.processors] : [];
    this.#onShutdown = config.onShutdown;
    const limits: ResolvedSpanLimits = { ...DEFAULT_SPAN_LIMITS, ...definedOnly(config.spanLimits) };
    const stats = this.stats;
    const processors = this.#processors;
    const open = this.#open;
    this.#sink = {
      limits,
      resource: this.resource,
      scope: SCOPE,
      spanEnded(span) {
        stats.spansEnded++;
        open.delete(span);
        for (const processor of processors) {
          try {
            processor.onEnd(span);
          } catch {
            stats.instrumentationErrors++;
          }
        }
      },
    };
  }

  /** @internal The wall-clock anchor a span started now with this `parent` option takes (clock.ts). */
  clockFor(parent: SpanContext | null | undefined): number {
    return parentClock(parent, getActiveContext()?.span) ?? rootClockAt(monotonicNow());
  }

  get isShutdown(): boolean {
    return this.#shutdown !== undefined;
  }

  /**
   * Starts a span; never throws. An unsampled span is a NonRecordingSpan with a fresh span id and the sampled flag
   * cleared, so the trace still propagates (sampled=0) at the cost of one id.
   */
  startSpan(name: string, options?: StartSpanOptions): Span {
    // Read once: each read of the active context is two megamorphic lookups on Node 20's AsyncLocalStorage.
    const active = getActiveContext();
    const parentOption = options?.parent;
    let parent: SpanContext | undefined;
    if (parentOption === undefined) parent = active?.span?.spanContext();
    else if (parentOption !== null) parent = parentOption;
    if (parent !== undefined && !isSpanContextValid(parent)) parent = undefined;

    if (
      this.disabled ||
      this.#shutdown !== undefined ||
      active?.suppressed === true ||
      active?.recordsNothing === true
    ) {
      // OpenTelemetry's no-op tracer: pass the parent through untouched so downstream services see the caller's
      // decision, and inject nothing for a new root (an unsampled root would switch tracing off downstream),
      // unless switching it off is what the caller asked for.
      if (parent === undefined && (options?.sampled ?? options?.callerDecision) === false)
        return new NonRecordingSpan(unsampledRoot());
      return new NonRecordingSpan(parent ?? INVALID_SPAN_CONTEXT);
    }

    let traceId: string;
    if (parent === undefined) {
      traceId = generateTraceId();
      keepNewTraceId();
    } else traceId = parent.traceId;
    const kind = options?.kind ?? SpanKind.INTERNAL;
    const spanName = typeof name === 'string' ? name : String(name);
    let sampled = options?.sampled;
    if (sampled === undefined) {
      try {
        const asked = options?.sampleAsRoot === true ? undefined : parent;
        const callerDecision = options?.callerDecision;
        const decision =
          callerDecision !== undefined && parent === undefined
            ? shouldSampleCallerDecision(
                this.sampler,
                callerDecision,
                traceId,
                spanName,
                kind,
                options?.attributes,
              )
            : this.sampler.shouldSample(traceId, asked, spanName, kind, options?.attributes);
        sampled = decision === true;
        if (decision !== sampled) {
          this.stats.instrumentationErrors++;
          warnSamplerMisbehaved(this.sampler, { returned: decision });
        }
      } catch (error) {
        this.stats.instrumentationErrors++;
        warnSamplerMisbehaved(this.sampler, { threw: error });
        sampled = false;
      }
    } else sampled = sampled === true;
    const inherited = parent === undefined ? TraceFlags.NONE : parent.traceFlags & ~TraceFlags.SAMPLED;
    const spanContext: SpanContext = {
      traceId,
      spanId: generateSpanId(),
      traceFlags: sampled ? inherited | TraceFlags.SAMPLED : inherited,
      traceState: parent?.traceState,
      isRemote: false,
      // B3/Jaeger debug: the caller's request to record every hop holds for the whole trace, unless the caller's
      // sampling decisions are not trusted (`sampleAsRoot`): debug is one of them. A span the sampler declined
      // drops it, or its outgoing calls would carry `d` / `X-B3-Flags: 1` / Jaeger `03`, which mean "sampled".
      debug:
        sampled && (options?.debug === true || (parent?.debug === true && options?.sampleAsRoot !== true))
          ? true
          : undefined,
    };
    if (!sampled) return new NonRecordingSpan(spanContext);
    // The active span is the parent unless the caller named one (which may come from a traceparent header).
    const local =
      parentOption === undefined && active?.span instanceof RecordingSpan ? active.span : undefined;
    const idWords = idWordsOf(parent, local);

    this.stats.spansStarted++;
    const scope = options?.scope;
    let attributes = options?.attributes;
    // A span given its parent (a server span, from the caller's headers) gets the baggage it starts under from
    // whoever started it; every other span starts under the active baggage. The caller's record stays theirs.
    if (this.baggageAttributes.length > 0 && parentOption === undefined) {
      attributes = { ...attributes };
      addBaggageAttributes(this.baggageAttributes, getActiveBaggage(), attributes);
    }
    const span = new RecordingSpan(scope === undefined ? this.#sink : this.#sinkFor(scope), {
      name: spanName,
      kind,
      spanContext,
      parentSpanId: parent?.spanId,
      parentIsRemote: parent?.isRemote === true,
      startTime: options?.startTime,
      startOnAnchor: options?.startOnAnchor,
      clock: parentClock(parentOption, active?.span),
      attributes,
      links: options?.links,
      idWords,
    });
    if (kind === SpanKind.SERVER || kind === SpanKind.CLIENT) {
      const own = scope === undefined;
      const open = own ? this.#open : this.#openElsewhere;
      if (open.size < (own ? MAX_TRACKED_OPEN_SPANS : MAX_TRACKED_ELSEWHERE)) open.add(span);
    }
    for (const processor of this.#processors) {
      if (processor.onStart === undefined) continue;
      try {
        processor.onStart(span);
      } catch {
        this.stats.instrumentationErrors++;
      }
    }
    return span;
  }

  /**
   * Starts a span and runs `fn` with it active; returns what `fn` returns. As in OpenTelemetry, `fn` ends the span.
   */
  startActiveSpan<T>(name: string, fn: SpanCallback<T>): T;
  startActiveSpan<T>(name: string, options: StartSpanOptions | undefined, fn: SpanCallback<T>): T;
  startActiveSpan<T>(
    name: string,
    optionsOrFn: StartSpanOptions | SpanCallback<T> | undefined,
    maybeFn?: SpanCallback<T>,
  ): T {
    const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
    if (typeof fn !== 'function')
      throw new TypeError('startActiveSpan: the last argument must be a function');
    const options = typeof optionsOrFn === 'function' ? undefined : optionsOrFn;
    const span = this.startSpan(name, options);
    return withSpan(span, () => fn(span));
  }

  /** The tracer's sink under another scope: spans of one scope share it, so the exporter groups them cheaply. */
  #sinkFor(scope: InstrumentationScope): SpanSink {
    const key = scopeKey(scope?.name, scope?.version);
    let sink = this.#scopedSinks.get(key);
    if (sink === undefined) {
      const ownSpanEnded = this.#sink.spanEnded;
      const openElsewhere = this.#openElsewhere;
      sink = {
        ...this.#sink,
        scope: scopeOf(scope?.name, scope?.version),
        spanEnded(span) {
          // First: the list a span is in is known by its sink, and the shared ending then finds it in none.
          openElsewhere.delete(span);
          ownSpanEnded(span);
        },
      };
      if (this.#scopedSinks.size < MAX_CACHED_SCOPES) this.#scopedSinks.set(key, sink);
    }
    return sink;
  }

  /**
   * @internal `configure()` replaced `previous` with this tracer. Its hooks and instrumentation go now (this tracer
   * has its own), while requests already in flight finish their spans there and are exported as they are; those
   * still open after `waitMillis` end as `shutdown`. A configuration reload is no process exit. Until it has shut
   * down, this tracer's flushes and shutdown (what the exit hooks run) take it along, so a signal in the meantime
   * loses none of its spans.
   */
  replaces(previous: Tracer, waitMillis: number): void {
    // One the app shut down itself has nothing left to finish; a flush must not wait on its leftovers.
    if (previous.isShutdown) return;
    this.#retiring.add(previous);
    void previous.retire(waitMillis).finally(() => this.#retiring.delete(previous));
  }

  /**
   * @internal Lets go of the process (hooks, instrumentation), waits up to `waitMillis` for the spans in flight, then
   * shuts down. Public, not private: the tracer replacing this one may come from the package's other build (an app
   * that `import`s it and `require`s an adapter), whose class cannot reach this one's private members.
   */
  async retire(waitMillis: number): Promise<void> {
    this.#detach();
    const until = Date.now() + waitMillis;
    // Every span started and not yet ended, of any kind and scope (a job's INTERNAL span between its calls), not
    // only the SERVER and CLIENT spans the open lists hold. A span never ended keeps it waiting until `until`.
    const stats = this.stats;
    const inFlight = (): number => stats.spansStarted - stats.spansEnded;
    while (inFlight() > 0 && Date.now() < until && this.#shutdown === undefined) {
      await new Promise((resolve) => setTimeout(resolve, RETIRE_POLL_MILLIS).unref());
    }
    return this.shutdown();
  }

  /** Takes off what this tracer installed in the process (outgoing instrumentation, exit hooks), once. */
  #detach(): void {
    const detach = this.#onShutdown;
    this.#onShutdown = undefined;
    try {
      detach?.();
    } catch {
      this.stats.instrumentationErrors++;
    }
  }

  #endOpenSpans(message: string): void {
    for (const span of this.#open.drain()) {
      try {
        // A call whose answer came (a fetch response whose body is never read) ends as that answer, as when undici
        // lets it go unread: what was still to come was the caller's to read, not the call's to fail.
        const answered =
          span.kind === SpanKind.CLIENT ? span.attributes['http.response.status_code'] : undefined;
        if (typeof answered === 'number') {
          recordAnswerStatus(span, answered);
          span.end();
          continue;
        }
        span.setAttribute('error.type', 'shutdown');
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        span.end();
      } catch {
        this.stats.instrumentationErrors++;
      }
    }
  }

  /**
   * @internal The process is exiting with no turn of the event loop left (`process.exit()`, an uncaught exception):
   * ends the SERVER and CLIENT spans still open, as shutdown does, and has every processor hand what it holds to
   * its exporter synchronously, all within `timeoutMillis`. Tracers this one replaced go along.
   */
  exportAtExit(timeoutMillis: number): void {
    const endsAt = Date.now() + timeoutMillis;
    this.#endOpenSpans('still in flight when the process exited');
    for (const processor of this.#processors) {
      try {
        processor.exportQueuedSync?.(Math.max(0, endsAt - Date.now()));
      } catch {
        this.stats.instrumentationErrors++;
      }
    }
    for (const previous of this.#retiring) previous.exportAtExit(Math.max(0, endsAt - Date.now()));
  }

  /** Adds a processor; spans already started reach it when they end. */
  addSpanProcessor(processor: SpanProcessor): void {
    this.#processors.push(processor);
  }

  /**
   * Exports everything ended so far; the process stays alive until it is done (within the exporters' timeouts).
   * Never rejects.
   */
  forceFlush(): Promise<void> {
    return holdProcessWhile(this.flushUnheld());
  }

  /**
   * @internal The same flush, which does not itself keep the process alive: the `beforeExit` hook that runs it
   * holds the process with its own deadline instead (at most `shutdownOnSignals.timeoutMillis`), and a signal the
   * app handles leaves the process to the app.
   */
  async flushUnheld(): Promise<void> {
    await Promise.all([
      ...this.#processors.map((processor) => settle(() => processor.forceFlush(), this.stats)),
      ...[...this.#retiring].map((previous) => previous.flushUnheld()),
    ]);
  }

  /**
   * Flushes and shuts every processor down once; later calls return the same promise. Never rejects. Requests
   * still in flight would end after the processors stopped taking spans, so their SERVER and CLIENT spans are
   * ended first, as errors with `error.type` `shutdown`, and leave with the final flush.
   */
  shutdown(): Promise<void> {
    if (this.#shutdown === undefined) {
      this.#detach();
      this.#endOpenSpans('still in flight at tracer shutdown');
      this.#shutdown = holdProcessWhile(
        Promise.all([
          ...this.#processors.map((processor) => settle(() => processor.shutdown(), this.stats)),
          ...[...this.#retiring].map((previous) => previous.shutdown()),
        ]),
      ).then(() => undefined);
    }
    return this.#shutdown;
  }
}

async function settle(fn: () => Promise<void>, stats: TracerStats): Promise<void> {
  try {
    await fn();
  } catch {
    stats.instrumentationErrors++;
  }
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  const result: Partial<T> = {};
  if (value === undefined || value === null) return result;
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] !== undefined) result[key] = value[key];
  }
  return result;
}

/**
 * The anchor of the active span, when it is the parent (given as such or not: the OpenTelemetry API bridge always
 * gives it), so the spans of a request keep one clock. A parent given that is not the active span takes the current
 * anchor, as OpenTelemetry's SDK reads the clock for every span.
 */
function parentClock(
  parentOption: SpanContext | null | undefined,
  activeSpan: Span | undefined,
): number | undefined {
  if (parentOption === null) return undefined;
  if (parentOption !== undefined && activeSpan?.spanContext().spanId !== parentOption.spanId)
    return undefined;
  return activeSpan instanceof RecordingSpan ? activeSpan.clock : undefined;
}
