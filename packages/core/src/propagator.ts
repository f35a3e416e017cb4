import type { Baggage } from './baggage.js';
import type { CarrierGetter, CarrierSetter } from './carrier.js';
import type { SpanContext } from './span-context.js';

/** What a propagator reads from or writes to a carrier. */
export interface PropagationContext {
  spanContext?: SpanContext | undefined;
  baggage?: Baggage | undefined;
  /**
   * Valid span contexts carried by other formats of the same request that name a different trace.
   * Only `composite` fills it; the server span links to them instead of losing them.
   */
  conflicting?: SpanContext[] | undefined;
  /**
   * A sampling decision that came without trace ids (B3 `b3: 0`, `b3: 1`, `b3: d`, or `X-B3-Sampled` /
   * `X-B3-Flags` without `X-B3-TraceId`): the caller asks that the new trace this request starts be recorded
   * (`true`) or not (`false`). Set only when `spanContext` is not; `inject` does not read it.
   */
  sampled?: boolean | undefined;
  /** With `sampled: true`: the decision was debug (B3 `d`, `X-B3-Flags: 1`), to be kept on the new trace. */
  debug?: boolean | undefined;
}

/** One wire format. Never throws on bad input: `extract` leaves fields it cannot read undefined. */
export interface Propagator {
  readonly name: string;
  /** Header names this propagator reads and writes, lowercase. */
  readonly fields: readonly string[];
  inject<C>(context: PropagationContext, carrier: C, setter?: CarrierSetter<C>): void;
  extract<C>(carrier: C, getter?: CarrierGetter<C>): PropagationContext;
}
