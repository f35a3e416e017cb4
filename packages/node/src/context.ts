import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Baggage } from '@tracewire/core';
import { processShared } from './process-shared.js';
import type { Span } from './span.js';

/** What one unit of work carries: its active span, its baggage, and whether tracing is switched off for it. */
export interface TraceContext {
  readonly span: Span | undefined;
  readonly baggage: Baggage | undefined;
  /** Set by the exporters so their own HTTP calls are never traced or given headers. */
  readonly suppressed: boolean;
  /**
   * A request the server options ignore: spans started under it record nothing, though its calls still carry the
   * caller's context on (unlike `suppressed`).
   */
  readonly recordsNothing?: boolean;
  /**
   * The OpenTelemetry API context this was entered from (`registerOpenTelemetryApi`), kept whole so values other
   * code set in it survive the trip through tracewire's storage.
   */
  readonly otelContext?: unknown;
  /**
   * The OpenTelemetry API context active where `withSpan` entered this one: its other values are still the
   * API's active context's here, beneath this context's own span.
   */
  readonly otelBase?: unknown;
  /**
   * The caller's trace id, where the request did not continue it (`incomingContext: 'link'`). A proxy still
   * forwards the caller's trace headers; outgoing calls replace them as they do the active trace's.
   */
  readonly callerTraceId?: string | undefined;
  /**
   * The context a server request was entered with, kept by the contexts started inside it (`withSpan`): it knows
   * the request while its server span is open (what an uncaught exception fails), and forgets it when it ends.
   */
  readonly requestContext?: RequestScope | undefined;
}

/** A server request's own context, as the contexts inside it see it. */
export interface RequestScope {
  readonly request: ActiveRequest | undefined;
}

/** What the exit hooks need of a request still in flight. */
export interface ActiveRequest {
  readonly span: Span;
  /** True once its span has ended. */
  readonly ended: boolean;
  /** Records an error its code threw (the `exception` event); the span still ends with the response. */
  recordError(error: unknown): void;
  /** Ends its span now, as failed (with `error`, when given): the process is exiting under it. */
  abandon(error?: unknown): void;
}

// One for the process, whichever copy of the package (ES module or CommonJS) enters or reads it.
const storage = processShared.storage as AsyncLocalStorage<TraceContext>;
const SUPPRESSED: TraceContext = Object.freeze({ span: undefined, baggage: undefined, suppressed: true });

export function getActiveContext(): TraceContext | undefined {
  return storage.getStore();
}

export function getActiveSpan(): Span | undefined {
  return storage.getStore()?.span;
}

export function getActiveBaggage(): Baggage | undefined {
  return storage.getStore()?.baggage;
}

/**
 * Runs `fn(...args)` with `context` active; it stays active through every `await`, timer and emitter `fn`
 * starts. Passing arguments lets a caller use one function per app instead of a closure per request.
 */
export function runInContext<A extends unknown[], T>(
  context: TraceContext,
  fn: (...args: A) => T,
  ...args: A
): T {
  return storage.run(context, fn, ...args);
}

/**
 * `fn`, bound to the context active now: wherever it is called later, it runs with this span and baggage (or with
 * none, if none is active now). For callbacks that reach code through a queue of its own rather than through
 * `await`, timers or an emit from inside the request: a listener on an emitter created at startup, a connection
 * pool's callback queue. `emitter.on('row', bindContext(onRow))`. OpenTelemetry's `context.bind` for functions.
 */
export function bindContext<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T {
  const context = storage.getStore();
  return function boundToContext(this: unknown, ...args: A): T {
    return context === undefined
      ? storage.exit(() => fn.apply(this, args))
      : storage.run(context, () => fn.apply(this, args));
  };
}

/**
 * Runs `fn` with `span` active, keeping the current baggage, and the values code set in the OpenTelemetry API's
 * context here (`registerOpenTelemetryApi`): the API shows them beneath `span`.
 */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  const current = storage.getStore();
  return storage.run(
    {
      span,
      baggage: current?.baggage,
      suppressed: current?.suppressed ?? false,
      recordsNothing: current?.recordsNothing,
      otelBase: current?.otelContext ?? current?.otelBase,
      callerTraceId: current?.callerTraceId,
      requestContext: current?.requestContext,
    },
    fn,
  );
}

/** Runs `fn` with tracing off: no spans, no injected headers. The exporters send through this. */
export function suppressTracing<T>(fn: () => T): T {
  return storage.run(SUPPRESSED, fn);
}

export function isTracingSuppressed(): boolean {
  return storage.getStore()?.suppressed === true;
}
