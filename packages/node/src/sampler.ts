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

/** @internal Marks a built-in sampler that ignores its callers' sampled flags, and so a decision sent without ids. */
export const kIgnoresCallers = Symbol('tracewire.ignoresCallers');

/** @internal A built-in sampler that ignores its callers' flags. */
export type IgnoresCallers = Sampler & { readonly [kIgnoresCallers]: true };

/** @internal How `parentBased` takes a decision sent without ids: as a remote parent's sampled flag. */
export const kCallerDecision = Symbol('tracewire.callerDecision');

/** @internal A sampler that takes a decision sent without ids itself (`parentBased`). */
export interface FollowsCallers extends Sampler {
  [kCallerDecision](
    sampled: boolean,
    traceId: string,
    name: string,
    kind: SpanKind,
    attributes: Attributes | undefined,
  ): boolean;
}

/**
 * A sampling decision a caller sent without trace ids (B3 `b3: 0` on a proxy's health check, `b3: 1`, `b3: d`)
 * for a new trace. `parentBased` takes it as a remote parent's sampled flag (its `remoteParentSampled` /
 * `remoteParentNotSampled` decide). The built-in samplers that ignore their callers' flags (`alwaysOn`, `alwaysOff`,
 * `traceIdRatio`, `rateLimited`) ignore it as well, so `always_off` or `ratelimited` cannot be talked out of their
 * decision by a header. Any other sampler is not asked and the decision is taken as sent, as it always was: a custom
 * sampler that hands on to `parentBased` cannot pass it on.
 */
export function shouldSampleCallerDecision(
  sampler: Sampler,
  sampled: boolean,
  traceId: string,
  name: string,
  kind: SpanKind,
  attributes: Attributes | undefined,
): boolean {
  const follow = (sampler as Partial<FollowsCallers>)[kCallerDecision];
  if (follow !== undefined) return follow(sampled, traceId, name, kind, attributes);
  if ((sampler as { [kIgnoresCallers]?: true })[kIgnoresCallers] === true) {
    return sampler.shouldSample(traceId, undefined, name, kind, attributes);
  }
  return sampled;
}

export const alwaysOn: Sampler = Object.freeze({
  [kIgnoresCallers]: true,
  shouldSample: () => true,
  toString: () => 'AlwaysOnSampler',
});

export const alwaysOff: Sampler = Object.freeze({
  [kIgnoresCallers]: true,
  shouldSample: () => false,
  toString: () => 'AlwaysOffSampler',
});
