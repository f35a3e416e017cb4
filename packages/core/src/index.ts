export type { Baggage } from './baggage.js';
export type { CarrierGetter, CarrierSetter } from './carrier.js';
export type { PropagationContext, Propagator } from './propagator.js';
export { type SpanContext, TraceFlags } from './span-context.js';
export type { TraceState } from './trace-state.js';
