import { Baggage } from './baggage.js';
import {
  type CarrierGetter,
  type CarrierSetter,
  defaultGetter,
  defaultSetter,
  lowercaseRecord,
  recordValue,
} from './carrier.js';
import type { PropagationContext, Propagator } from './propagator.js';

const BAGGAGE = 'baggage';

/** W3C Baggage: the `baggage` header. */
export const w3cBaggage: Propagator = {
  name: 'baggage',
  fields: [BAGGAGE],

  inject<C>(context: PropagationContext, carrier: C, setter?: CarrierSetter<C>): void {
    const baggage = context.baggage;
    if (!(baggage instanceof Baggage) || baggage.size === 0) return;
    const value = baggage.serialize();
    if (value !== '') (setter ?? (defaultSetter as CarrierSetter<C>)).set(carrier, BAGGAGE, value);
  },

  extract<C>(carrier: C, getter?: CarrierGetter<C>): PropagationContext {
    const get = getter ?? (defaultGetter as CarrierGetter<C>);
    const record = lowercaseRecord(carrier, get);
    const header = record !== undefined ? recordValue(record.baggage) : get.get(carrier, BAGGAGE);
    if (header === undefined) return {};
    const baggage = Baggage.parse(header);
    return baggage.size === 0 ? {} : { baggage };
  },
};
