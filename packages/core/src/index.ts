export { type B3Options, b3 } from './b3.js';
export { Baggage, type BaggageEntry, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS } from './baggage.js';
export { w3cBaggage } from './baggage-propagator.js';
export {
  type CarrierGetter,
  type CarrierSetter,
  defaultGetter,
  defaultSetter,
  lowercaseHeadersGetter,
} from './carrier.js';
export { type CompositeOptions, composite } from './composite.js';
export { hasSpanContextIdWords, spanContextIdWord } from './decoded-span-context.js';
export { generateSpanId, generateTraceId, lastIdWord } from './ids.js';
export { jaeger } from './jaeger.js';
export type { PropagationContext, Propagator } from './propagator.js';
export { defaultPropagator, propagatorsFromNames } from './propagators-from-names.js';
export {
  isSampled,
  isSpanContextValid,
  isValidSpanId,
  isValidTraceId,
  type SpanContext,
  TraceFlags,
} from './span-context.js';
export { TraceState } from './trace-state.js';
export { w3cTraceContext } from './traceparent.js';
