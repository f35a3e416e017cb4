import { TraceFlags } from '@tracewire/core';
import { alwaysOff, alwaysOn, type Sampler } from './sampler.js';
import type { Attributes, SpanKind } from './span-data.js';

/** How a sampler that follows its callers takes a decision sent without ids (`shouldSampleCallerDecision`). */
const kCallerDecision = Symbol('tracewire.callerDecision');

interface FollowsCallers extends Sampler {
  [kCallerDecision](
    sampled: boolean,
    traceId: string,
    name: string,
    kind: SpanKind,
    attributes: Attributes | undefined,
  ): boolean;
}

export interface ParentBasedOptions {
  /** Decides for spans without a parent (new traces). */
  root: Sampler;
  /** Default: always on. */
  remoteParentSampled?: Sampler;
  /** Default: always off. */
  remoteParentNotSampled?: Sampler;
  /** Default: always on. */
  localParentSampled?: Sampler;
  /** Default: always off. */
  localParentNotSampled?: Sampler;
}

/**
 * Follows the parent's sampled flag, so a trace is recorded everywhere or nowhere; only new traces ask `root`
 * (OpenTelemetry trace SDK, "ParentBased").
 */
export function parentBased(options: ParentBasedOptions): Sampler {
  const root = options?.root;
  if (!isSampler(root)) throw new TypeError('parentBased: options.root must be a Sampler');
  const remoteSampled = pick(options.remoteParentSampled, alwaysOn, 'remoteParentSampled');
  const remoteNotSampled = pick(options.remoteParentNotSampled, alwaysOff, 'remoteParentNotSampled');
  const localSampled = pick(options.localParentSampled, alwaysOn, 'localParentSampled');
  const localNotSampled = pick(options.localParentNotSampled, alwaysOff, 'localParentNotSampled');
  const description =
    `ParentBased{root=${root},remoteParentSampled=${remoteSampled},remoteParentNotSampled=${remoteNotSampled},` +
    `localParentSampled=${localSampled},localParentNotSampled=${localNotSampled}}`;
  const sampler: FollowsCallers = {
    [kCallerDecision](sampled, traceId, name, kind, attributes) {
      return (sampled ? remoteSampled : remoteNotSampled).shouldSample(
        traceId,
        undefined,
        name,
        kind,
        attributes,
      );
    },
    shouldSample(traceId, parent, name, kind, attributes) {
      let delegate: Sampler;
      if (parent === undefined) delegate = root;
      else if (parent.isRemote === true) {
        delegate = (parent.traceFlags & TraceFlags.SAMPLED) !== 0 ? remoteSampled : remoteNotSampled;
      } else {
        delegate = (parent.traceFlags & TraceFlags.SAMPLED) !== 0 ? localSampled : localNotSampled;
      }
      return delegate.shouldSample(traceId, parent, name, kind, attributes);
    },
    toString: () => description,
  };
  return sampler;
}

/**
 * A sampling decision a caller sent without trace ids (B3 `b3: 0` on a proxy's health check, `b3: 1`, `b3: d`)
 * decides a new trace where the sampler follows its callers: a `parentBased` sampler takes it as a remote parent's
 * sampled flag. Any other sampler decides as for a new trace, ignoring it as it would ignore a parent's flag, so
 * `always_off` or `ratelimited` cannot be talked out of their decision by a header.
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
  return follow !== undefined
    ? follow(sampled, traceId, name, kind, attributes)
    : sampler.shouldSample(traceId, undefined, name, kind, attributes);
}

function pick(value: Sampler | undefined, fallback: Sampler, name: string): Sampler {
  if (value === undefined) return fallback;
  if (!isSampler(value)) throw new TypeError(`parentBased: options.${name} must be a Sampler`);
  return value;
}

function isSampler(value: unknown): value is Sampler {
  return typeof (value as Sampler | undefined)?.shouldSample === 'function';
}
