import type { InstrumentationScope } from './span-data.js';

// A scope's name and version come from whoever starts the span (OpenTelemetry's `getTracer(name, version)` takes
// anything): a name that is not a string is '', a version that is not a string is left out.

/** What tells two scopes apart, for maps keyed by scope; no object is made, so a lookup that hits allocates none. */
export function scopeKey(name: unknown, version: unknown): string {
  return `${typeof name === 'string' ? name : ''}\0${typeof version === 'string' ? version : ''}`;
}

/** The scope spans are exported under, frozen: spans share it, and the exporter groups them by it. */
export function scopeOf(name: unknown, version: unknown): InstrumentationScope {
  const scopeName = typeof name === 'string' ? name : '';
  return Object.freeze(typeof version === 'string' ? { name: scopeName, version } : { name: scopeName });
}
