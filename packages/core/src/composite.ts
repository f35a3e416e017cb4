import type { Baggage } from './baggage.js';
import type { CarrierGetter, CarrierSetter } from './carrier.js';
import type { PropagationContext, Propagator } from './propagator.js';
import { isSpanContextValid, type SpanContext } from './span-context.js';

export interface CompositeOptions {
  /**
   * The propagators `inject` writes with. Default: the same list `extract` reads. Lets a service read every
   * format its callers may send while writing only the ones its callees understand.
   */
  injectWith?: readonly Propagator[];
}

function checkList(list: unknown, option: string): readonly Propagator[] {
  if (!Array.isArray(list)) throw new TypeError(`composite: ${option} must be an array of propagators`);
  for (const p of list) {
    if (
      p === null ||
      typeof p !== 'object' ||
      typeof p.inject !== 'function' ||
      typeof p.extract !== 'function'
    ) {
      throw new TypeError(`composite: every entry of ${option} must be a propagator with inject and extract`);
    }
  }
  return list.slice();
}

/**
 * Several formats as one. `extract` asks each propagator in order: the first valid span context wins, and
 * valid contexts of other formats that name a different trace are returned in `conflicting` (so the server
 * span can link to them). Without any valid context, the first sampling decision sent without ids (`b3: 0`) is
 * returned as `sampled` / `debug`; baggage from all is merged, earlier propagators winning on equal keys.
 * `inject` writes with every propagator of `options.injectWith` (default: all). A propagator that throws is
 * skipped: nothing is thrown into the request.
 */
export function composite(propagators: readonly Propagator[], options: CompositeOptions = {}): Propagator {
  const extractors = checkList(propagators, 'propagators');
  const injectors =
    options.injectWith === undefined ? extractors : checkList(options.injectWith, 'options.injectWith');
  const fields = new Set<string>();
  for (const p of extractors) for (const f of p.fields) fields.add(f);
  for (const p of injectors) for (const f of p.fields) fields.add(f);

  return {
    name: `composite(${extractors.map((p) => p.name).join(',')})`,
    fields: [...fields],

    inject<C>(context: PropagationContext, carrier: C, setter?: CarrierSetter<C>): void {
      for (const p of injectors) {
        try {
          p.inject(context, carrier, setter);
        } catch {
          // A faulty custom propagator must not break the request; the others still write.
        }
      }
    },

    extract<C>(carrier: C, getter?: CarrierGetter<C>): PropagationContext {
      let spanContext: SpanContext | undefined;
      let baggage: Baggage | undefined;
      let conflicting: SpanContext[] | undefined;
      let decision: PropagationContext | undefined;
      for (const p of extractors) {
        let extracted: PropagationContext;
        try {
          extracted = p.extract(carrier, getter);
        } catch {
          continue;
        }
        const sc = extracted.spanContext;
        if (isSpanContextValid(sc)) {
          if (spanContext === undefined) spanContext = sc;
          else if (
            sc.traceId !== spanContext.traceId &&
            !conflicting?.some((c) => c.traceId === sc.traceId)
          ) {
            if (conflicting === undefined) conflicting = [sc];
            else conflicting.push(sc);
          }
        } else if (decision === undefined && extracted.sampled !== undefined) decision = extracted;
        const b = extracted.baggage;
        if (b !== undefined && b.size > 0) baggage = baggage === undefined ? b : b.merge(baggage);
      }
      const result: PropagationContext = {};
      if (spanContext !== undefined) result.spanContext = spanContext;
      if (baggage !== undefined) result.baggage = baggage;
      if (conflicting !== undefined) result.conflicting = conflicting;
      if (spanContext === undefined && decision !== undefined) {
        // A decision without ids only says how to start a new trace: any format's ids win over it.
        result.sampled = decision.sampled === true;
        if (result.sampled && decision.debug === true) result.debug = true;
      }
      return result;
    },
  };
}
