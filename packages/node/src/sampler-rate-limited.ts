import { performance } from 'node:perf_hooks';
import { TraceFlags } from '@tracewire/core';
import { type IgnoresCallers, kIgnoresCallers, type Sampler } from './sampler.js';

/**
 * Samples at most `perSecond` traces per second, averaged by a token bucket that holds one second's worth: a burst
 * after a quiet spell may take the whole second's budget at once, and steady traffic gets `perSecond`. A span
 * with a local parent follows it without taking a token: the bucket counts traces, and a child asked again would
 * record a fragment (or drop one out of a recorded trace). A new trace and a span under a remote parent take one,
 * whatever the caller decided; as the `root` of `parentBased` it is asked for new traces only.
 *
 * `now` (milliseconds, monotonic) exists for tests.
 */
export function rateLimited(perSecond: number, now: () => number = () => performance.now()): Sampler {
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond < 0) {
    throw new RangeError(
      `rateLimited: perSecond must be a finite number of traces per second >= 0, got ${String(perSecond)}`,
    );
  }
  const capacity = Math.max(perSecond, 1);
  const perMillisecond = perSecond / 1000;
  let tokens = perSecond === 0 ? 0 : capacity;
  let last = now();
  const description = `RateLimitingSampler{${perSecond}}`;
  const sampler: IgnoresCallers = {
    [kIgnoresCallers]: true,
    shouldSample(_traceId, parent) {
      if (parent !== undefined && parent.isRemote !== true)
        return (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
      if (perSecond === 0) return false;
      const current = now();
      const elapsed = current - last;
      last = current;
      if (elapsed > 0) {
        tokens += elapsed * perMillisecond;
        if (tokens > capacity) tokens = capacity;
      }
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    toString: () => description,
  };
  return sampler;
}
