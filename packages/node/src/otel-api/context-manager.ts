import { getActiveContext, runInContext, type TraceContext } from '../context.js';
import type { OpenTelemetryApi, OtelContext, OtelContextManager } from './api-types.js';
import {
  baggageFromOtel,
  baggageToOtel,
  countBridgeError,
  isSuppressed,
  RECORDS_NOTHING_KEY,
  SUPPRESS_TRACING_KEY,
} from './convert.js';
import { bindEmitter, isEventEmitter } from './emitter-binding.js';
import { bridged, unbridged } from './span.js';

/**
 * OpenTelemetry's context manager on tracewire's one `AsyncLocalStorage`: what the API makes active, tracewire's
 * spans and outgoing calls see, and the reverse. A context entered through the API is kept whole in the store; one
 * tracewire entered (a request's) is shown to the API as a context holding its span, baggage and suppression.
 */
export class BridgedContextManager implements OtelContextManager {
  readonly #api: OpenTelemetryApi;
  // Contexts tracewire entered, as the API sees them: built once per store, since the API asks often.
  readonly #shown = new WeakMap<TraceContext, OtelContext>();

  constructor(api: OpenTelemetryApi) {
    this.#api = api;
  }

  active(): OtelContext {
    const store = getActiveContext();
    if (store === undefined) return this.#api.ROOT_CONTEXT;
    if (store.otelContext !== undefined) return store.otelContext as OtelContext;
    let shown = this.#shown.get(store);
    if (shown === undefined) {
      shown = this.#show(store);
      this.#shown.set(store, shown);
    }
    return shown;
  }

  #show(store: TraceContext): OtelContext {
    const api = this.#api;
    if (store.otelBase !== undefined) {
      // tracewire's `withSpan` (its `startActiveSpan`) inside `context.with`: the API's values stay, under its span.
      try {
        const base = store.otelBase as OtelContext;
        return store.span === undefined
          ? api.trace.deleteSpan(base)
          : api.trace.setSpan(base, bridged(store.span));
      } catch {
        // Not a context the API made (counted when it was entered): shown from the store alone.
      }
    }
    let shown = api.ROOT_CONTEXT;
    if (store.span !== undefined) shown = api.trace.setSpan(shown, bridged(store.span));
    if (store.baggage !== undefined && store.baggage.size > 0) {
      shown = api.propagation.setBaggage(shown, baggageToOtel(api, store.baggage));
    }
    if (store.suppressed) shown = shown.setValue(SUPPRESS_TRACING_KEY, true);
    if (store.recordsNothing === true) shown = shown.setValue(RECORDS_NOTHING_KEY, true);
    return shown;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: OtelContext,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    let store: TraceContext;
    try {
      store = {
        span: unbridged(this.#api.trace.getSpan(context)),
        baggage: baggageFromOtel(this.#api.propagation.getBaggage(context)),
        suppressed: isSuppressed(context),
        recordsNothing: context.getValue(RECORDS_NOTHING_KEY) === true,
        otelContext: context,
        // Code the API runs while a request is handled is still that request's (what a crash in it fails).
        requestContext: getActiveContext()?.requestContext,
      };
    } catch {
      // Not a context the API made: run `fn` as OpenTelemetry's manager would, with that value active, and no span.
      countBridgeError();
      store = { span: undefined, baggage: undefined, suppressed: false, otelContext: context };
    }
    const call = fn as unknown as (...args: unknown[]) => unknown;
    return runInContext(store, callWith, call, thisArg, args) as ReturnType<F>;
  }

  /** A function, bound to `context`; or an `EventEmitter`, whose listeners added from now on run in it. */
  bind<T>(context: OtelContext, target: T): T {
    if (isEventEmitter(target)) return bindEmitter(target, (listener) => this.bind(context, listener)) as T;
    if (typeof target !== 'function') return target;
    const manager = this;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return function boundToOtelContext(this: unknown, ...args: unknown[]) {
      return manager.with(context, fn, this, ...args);
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    return this;
  }
}

function callWith(fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[]): unknown {
  return fn.apply(thisArg, args);
}
