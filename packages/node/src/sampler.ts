import type { SpanContext } from '@tracewire/core';
import type { Attributes, SpanKind } from './span-data.js';

/**
 * Decides, once per span at start, whether it is recorded. `parent` is the parent's context (local or remote), or
 * undefined for a new trace. Must be cheap and must not throw.
 */
export interface Sampler {
  shouldSample(
    traceId: string,
    parent: SpanContext | undefined,
    name: string,
    kind: SpanKind,
    attributes?: Attributes,
  ): boolean;
  /** A description such as `ParentBased{root=AlwaysOnSampler}`, as OpenTelemetry samplers describe themselves. */
  toString(): string;
}

export const alwaysOn: Sampler = Object.freeze({
  shouldSample: () => true,
  toString: () => 'AlwaysOnSampler',
});

export const alwaysOff: Sampler = Object.freeze({
  shouldSample: () => false,
  toString: () => 'AlwaysOffSampler',
});
