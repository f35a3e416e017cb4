import { describe, expect, it } from 'vitest';
import { InMemoryExporter } from '../src/exporters/in-memory.js';
import { makeSpan } from './fixtures/spans.js';

describe('InMemoryExporter', () => {
  it('keeps exported spans in order until reset', async () => {
    const exporter = new InMemoryExporter();
    const a = makeSpan();
    const b = makeSpan();
    expect(await exporter.export([a])).toEqual({ code: 0 });
    await exporter.export([b]);
    expect(exporter.getFinishedSpans()).toEqual([a, b]);
    exporter.reset();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('returns a copy, so callers cannot change what it holds', async () => {
    const exporter = new InMemoryExporter();
    await exporter.export([makeSpan()]);
    exporter.getFinishedSpans().pop();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('refuses spans after shutdown but keeps those it has', async () => {
    const exporter = new InMemoryExporter();
    await exporter.export([makeSpan()]);
    await exporter.shutdown();
    expect((await exporter.export([makeSpan()])).code).toBe(1);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });
});
