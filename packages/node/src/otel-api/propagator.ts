import type { CarrierGetter, CarrierSetter, PropagationContext } from '@tracewire/core';
import { getTracer } from '../global.js';
import type { OpenTelemetryApi, OtelContext, OtelTextMapPropagator } from './api-types.js';
import { baggageFromOtel, baggageToOtel, countBridgeError, isSuppressed } from './convert.js';
import { spanContextOf } from './span.js';

/**
 * OpenTelemetry's global propagator as tracewire's: `propagation.inject` / `extract` (messaging libraries, code that
 * carries context through a queue) read and write the same formats as tracewire's own instrumentation
 * (`OTEL_PROPAGATORS`, or `configure({ propagators })`), looked up on each call.
 */
export class BridgedPropagator implements OtelTextMapPropagator {
  readonly #api: OpenTelemetryApi;

  constructor(api: OpenTelemetryApi) {
    this.#api = api;
  }

  inject(context: OtelContext, carrier: unknown, setter: unknown): void {
    try {
      // As OpenTelemetry's propagators: nothing is written under suppressTracing.
      if (isSuppressed(context)) return;
      const span = this.#api.trace.getSpan(context);
      const propagation: PropagationContext = {
        spanContext: span === undefined ? undefined : spanContextOf(span),
        baggage: baggageFromOtel(this.#api.propagation.getBaggage(context)),
      };
      getTracer().propagator.inject(propagation, carrier, setter as CarrierSetter<unknown>);
    } catch {
      // Carriers and contexts are the caller's; a failing setter or an odd context must not break its send.
      countBridgeError();
    }
  }

  extract(context: OtelContext, carrier: unknown, getter: unknown): OtelContext {
    try {
      const extracted = getTracer().propagator.extract(carrier, getter as CarrierGetter<unknown>);
      let result = context;
      if (extracted.spanContext !== undefined) {
        result = this.#api.trace.setSpanContext(result, { ...extracted.spanContext, isRemote: true });
      }
      if (extracted.baggage !== undefined && extracted.baggage.size > 0) {
        result = this.#api.propagation.setBaggage(result, baggageToOtel(this.#api, extracted.baggage));
      }
      return result;
    } catch {
      // A throwing getter, or a context the API would not make (no `setValue`): the caller's context, as it was.
      countBridgeError();
      return context;
    }
  }

  fields(): string[] {
    try {
      return [...getTracer().propagator.fields];
    } catch {
      return [];
    }
  }
}
