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
}

/** One wire format. Never throws on bad input: `extract` leaves fields it cannot read undefined. */
export interface Propagator {
  readonly name: string;
  /** Header names this propagator reads and writes, lowercase. */
  readonly fields: readonly string[];
  inject<C>(context: PropagationContext, carrier: C, setter?: CarrierSetter<C>): void;
  extract<C>(carrier: C, getter?: CarrierGetter<C>): PropagationContext;
}
