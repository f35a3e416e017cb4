import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startZipkinReceiver } from '../interop/fixtures/zipkin-receiver.js';

const run = promisify(execFile);

// The README's first command ends in `node examples/demo.mjs`; run it headlessly and read what a person would see.
describe('the demo', () => {
  it('prints one cross-service waterfall per request and exits 0', async () => {
    const { stdout } = await run(process.execPath, ['examples/demo.mjs'], {
      env: demoEnv(),
      timeout: 60_000,
    });

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

  it("sends the spans to Zipkin with the README's Zipkin recipe, and starts no viewer", async () => {
    const zipkin = await startZipkinReceiver();
    try {
      const env = demoEnv({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.url });
      const { stdout } = await run(process.execPath, ['examples/demo.mjs'], { env, timeout: 60_000 });

      expect(stdout).toContain(`OTEL_EXPORTER_ZIPKIN_ENDPOINT=${zipkin.url}`);
      expect(stdout).not.toContain('\ntrace ');
      const spans = zipkin.spans() as { name?: string; localEndpoint?: { serviceName?: string } }[];
      const services = new Set(spans.map((span) => span.localEndpoint?.serviceName));
      expect([...services].sort()).toEqual(['gateway', 'inventory', 'orders']);
      expect(spans.map((span) => span.name)).toContain('GET /inventory/:sku');
    } finally {
      await zipkin.close();
    }
  });
});

/** The test process's environment without any backend choice of its own, plus `extra`. */
function demoEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [
    'OTEL_TRACES_EXPORTER',
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    'OTEL_EXPORTER_ZIPKIN_ENDPOINT',
  ])
    delete env[name];
  return { ...env, ...extra };
}
