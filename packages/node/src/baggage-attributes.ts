import type { Baggage } from '@tracewire/core';
import type { Attributes } from './span-data.js';

/**
 * Copies the named baggage entries into `attributes`, under the baggage key, where the key is not set already: the
 * attribute a span was started with wins. OpenTelemetry's baggage span processor copies every entry; here only the
 * keys the app names are, because baggage arrives from callers and ends up in the exported spans.
 */
export function addBaggageAttributes(
  keys: readonly string[],
  baggage: Baggage | undefined,
  attributes: Attributes,
): void {
  if (baggage === undefined) return;
  for (const key of keys) {
    if (attributes[key] !== undefined) continue;
    const entry = baggage.get(key);
    if (entry !== undefined) attributes[key] = entry.value;
  }
}
