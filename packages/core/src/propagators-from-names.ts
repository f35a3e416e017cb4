import { b3 } from './b3.js';
import { w3cBaggage } from './baggage-propagator.js';
import { composite } from './composite.js';
import { jaeger } from './jaeger.js';
import type { Propagator } from './propagator.js';
import { w3cTraceContext } from './traceparent.js';

const b3Single = b3();
const b3Multi = b3({ inject: 'multi' });

const BY_NAME: Readonly<Record<string, Propagator | null>> = {
  tracecontext: w3cTraceContext,
  baggage: w3cBaggage,
  b3: b3Single,
  b3multi: b3Multi,
  jaeger,
  none: null,
};

const ACCEPTED = Object.keys(BY_NAME).join(', ');

/**
 * Reads every format tracewire knows (W3C Trace Context, W3C Baggage, B3 single and multi, Jaeger) and writes
 * only W3C Trace Context and Baggage, OpenTelemetry's default `OTEL_PROPAGATORS=tracecontext,baggage`.
 */
export const defaultPropagator: Propagator = composite([w3cTraceContext, w3cBaggage, b3Single, jaeger], {
  injectWith: [w3cTraceContext, w3cBaggage],
});

/**
 * A composite of the propagators named in an `OTEL_PROPAGATORS` value (comma-separated, case-insensitive):
 * tracecontext, baggage, b3 (single header), b3multi, jaeger, none. `none` disables propagation (listed with other
 * names it throws, or, given `skipUnknown`, wins); an
 * empty value means "unset" (OpenTelemetry SDK environment variable spec) and returns {@link defaultPropagator}.
 * An unknown name throws a RangeError naming `source` (where the list came from: the variable, or a code option),
 * the unknown value and the accepted ones; given `skipUnknown`, it is passed to it and left out instead (what the
 * OpenTelemetry SDK environment variable spec asks of an unrecognised value: a warning, never a failure).
 */
export function propagatorsFromNames(
  names: string,
  source = 'OTEL_PROPAGATORS',
  skipUnknown?: (unknown: string) => void,
): Propagator {
  if (typeof names !== 'string') {
    throw new TypeError(`${source} must be a comma-separated string of: ${ACCEPTED}`);
  }
  if (names.trim() === '') return defaultPropagator;
  const list: Propagator[] = [];
  let skipped = false;
  let none = false;
  for (const raw of names.split(',')) {
    const name = raw.trim().toLowerCase();
    if (name === '') continue;
    const p = Object.hasOwn(BY_NAME, name) ? BY_NAME[name] : undefined;
    if (p === undefined && skipUnknown !== undefined) {
      skipUnknown(raw.trim());
      skipped = true;
      continue;
    }
    if (p === null) none = true;
    if (p === undefined) {
      throw new RangeError(`${source}: unknown propagator "${raw.trim()}"; accepted values: ${ACCEPTED}`);
    }
    if (p !== null && !list.includes(p)) list.push(p);
  }
  // Nothing known named (`xray` alone): the setting is ignored, not read as `none`.
  if (skipped && list.length === 0 && !none) return defaultPropagator;
  if (none && list.length > 0) {
    // Whoever wrote `none` meant propagation off: with `skipUnknown` (the environment's way) it wins.
    if (skipUnknown === undefined) {
      throw new RangeError(
        `${source}: "none" cannot be combined with other propagators; got ${JSON.stringify(names)}`,
      );
    }
    return composite([]);
  }
  return composite(list);
}
