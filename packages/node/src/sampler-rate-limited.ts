import { performance } from 'node:perf_hooks';
import type { Sampler } from './sampler.js';

/**
 * Samples at most `perSecond` spans per second, averaged by a token bucket that holds one second's worth: a burst
 * after a quiet spell may take the whole second's budget at once, and steady traffic gets `perSecond`. Meant as the
 * `root` of `parentBased` so it caps new traces and children follow their parent.
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
  return {
    shouldSample() {
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
}
