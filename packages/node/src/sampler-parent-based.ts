import { TraceFlags } from '@tracewire/core';
import { alwaysOff, alwaysOn, type FollowsCallers, kCallerDecision, type Sampler } from './sampler.js';

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
      // A caller that sent its trace without a decision (B3 "defer") leaves it to this service's root sampler.
      if (parent === undefined || (parent.isRemote === true && parent.samplingDeferred === true))
        delegate = root;
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

function pick(value: Sampler | undefined, fallback: Sampler, name: string): Sampler {
  if (value === undefined) return fallback;
  if (!isSampler(value)) throw new TypeError(`parentBased: options.${name} must be a Sampler`);
  return value;
}

function isSampler(value: unknown): value is Sampler {
  return typeof (value as Sampler | undefined)?.shouldSample === 'function';
}
