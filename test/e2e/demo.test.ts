import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// The README's first command ends in `node examples/demo.mjs`; run it headlessly and read what a person would see.
describe('the demo', () => {
  it('prints one cross-service waterfall per request and exits 0', async () => {
    const env = { ...process.env };
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    const { stdout } = await run(process.execPath, ['examples/demo.mjs'], { env, timeout: 60_000 });

    expect(stdout).toMatch(/GET \/api\/orders\/3\s+502/);
    const traces = stdout.split('\ntrace ').slice(1);
    expect(traces).toHaveLength(5);
    const failing = traces.find((trace) => trace.includes('✗'))!;
    for (const service of ['gateway', 'orders', 'inventory']) expect(failing).toContain(service);
    expect(failing).toMatch(/inventory\s+GET \/inventory\/:sku/);
    expect(stdout).toMatch(/gateway\s+GET \/api\/products\/:sku/);
    // The inventory's warehouse client traces through @opentelemetry/api: its span sits under the server span.
    const answered = traces.filter((trace) => /GET \/inventory\/:sku\s/.test(trace) && !trace.includes('✗'));
    expect(answered).toHaveLength(3);
    for (const trace of answered) {
      expect(trace).toMatch(/inventory\s+GET \/inventory\/:sku\s[^\n]*\n\s*inventory\s+warehouse lookup/);
    }
  });
});
