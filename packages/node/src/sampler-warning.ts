import { describe } from './option-checks.js';
import type { Sampler } from './sampler.js';

const warnedOf = new WeakSet<Sampler>();

/**
 * A sampler that returns anything but true or false, or throws, leaves its spans unrecorded, which looks like an
 * app with nothing to trace. The usual cause is an OpenTelemetry sampler handed to `configure()`: it takes
 * `(context, traceId, ...)` and returns a `SamplingResult`. Said once per sampler, as a Node process warning.
 */
export function warnSamplerMisbehaved(
  sampler: Sampler,
  outcome: { returned: unknown } | { threw: unknown },
): void {
  if (warnedOf.has(sampler)) return;
  warnedOf.add(sampler);
  try {
    let what: string;
    if ('threw' in outcome) {
      const error = outcome.threw;
      what = `threw (${error instanceof Error ? error.message : describe(error)})`;
    } else {
      const value = outcome.returned;
      const samplingResult = typeof value === 'object' && value !== null && 'decision' in value;
      what = samplingResult
        ? 'returned a SamplingResult: OpenTelemetry samplers are not tracewire samplers'
        : `returned ${describe(value)}, not true or false`;
    }
    process.emitWarning(
      `sampler ${String(sampler)}: shouldSample ${what}; the spans it decided for are not recorded. A tracewire ` +
        'sampler is shouldSample(traceId, parent, name, kind, attributes) => boolean (see alwaysOn, traceIdRatio, ' +
        'parentBased, rateLimited).',
      { type: 'TracewireWarning', code: 'TRACEWIRE_SAMPLER' },
    );
  } catch {
    // A sampler whose description throws, or a throwing 'warning' listener, must not fail the span being started.
  }
}
