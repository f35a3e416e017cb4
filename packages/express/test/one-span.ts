import type { InMemoryExporter, ReadableSpan } from '@tracewire/node';
import { expect } from 'vitest';

/** Waits (up to 2 s) for the exporter's first finished span, and asserts there is exactly one. */
export async function oneFinishedSpan(exporter: InMemoryExporter): Promise<ReadableSpan> {
  for (let i = 0; i < 400 && exporter.getFinishedSpans().length === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!;
}
