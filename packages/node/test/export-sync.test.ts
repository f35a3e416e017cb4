import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchSpanProcessor } from '../src/batch-processor.js';
import { resolveConfig } from '../src/config.js';
import { OtlpHttpExporter } from '../src/exporters/otlp-http-exporter.js';
import { ZipkinExporter } from '../src/exporters/zipkin.js';
import type { ExportResult, ReadableSpan, SpanExporter } from '../src/span-data.js';
import { makeSpan } from './fixtures/spans.js';

// The synchronous delivery an exit without a turn of the event loop left gets (process.exit(), an uncaught
// exception). It blocks this process, so the receivers run in processes of their own.

const COLLECTOR = fileURLToPath(new URL('./fixtures/collector-process.mjs', import.meta.url));
const CERT_DIR = fileURLToPath(new URL('../../../test/fixtures/outgoing/', import.meta.url));
/** The built package (`pnpm build` first), for the child process that runs the exporter. */
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Received {
  url: string;
  contentType: string;
  contentEncoding: string | undefined;
  clientSubject: string | undefined;
  body: string;
}

interface Collector {
  url: string;
  received(): Received[];
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

async function collector(env: Record<string, string> = {}): Promise<Collector> {
  const child = spawn(process.execPath, [COLLECTOR], {
    env: { ...process.env, NODE_OPTIONS: '', CERT_DIR, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  await vi.waitFor(() => expect(output).toMatch(/^listening /), { timeout: 10_000 });
  const url = /^listening (\S+)/.exec(output)![1]!;
  return {
    url,
    received: () =>
      output
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Received),
  };
}

/** A port nothing listens on: one a server had a moment ago. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Lines the collector printed for what it got: it runs on, so they arrive after the blocking call returned. */
async function receivedOnce(c: Collector, count = 1): Promise<Received[]> {
  await vi.waitFor(() => expect(c.received()).toHaveLength(count));
  return c.received();
}

describe('exportSync', () => {
  it('delivers OTLP/JSON before returning, gzip-compressed when asked', async () => {
    const c = await collector();
    const exporter = new OtlpHttpExporter({
      url: `${c.url}/v1/traces`,
      protocol: 'http/json',
      compression: 'gzip',
      warn: () => {},
    });
    const result = exporter.exportSync([makeSpan({ name: 'last words' })], 5000);
    expect(result).toEqual({ code: 0 });
    const [post] = await receivedOnce(c);
    expect(post).toMatchObject({
      url: '/v1/traces',
      contentType: 'application/json',
      contentEncoding: 'gzip',
    });
    expect(JSON.parse(post!.body).resourceSpans[0].scopeSpans[0].spans[0].name).toBe('last words');
  });

  it('presents the client certificate to a collector asking for mutual TLS, trusting its CA', async () => {
    const c = await collector({ TLS: '1', MUTUAL: '1' });
    const spec = resolveConfig(
      { exporters: 'otlp' },
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: c.url,
        OTEL_EXPORTER_OTLP_CERTIFICATE: `${CERT_DIR}cert.pem`,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: `${CERT_DIR}cert.pem`,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: `${CERT_DIR}key.pem`,
      },
    ).exporters[0];
    if (spec?.kind !== 'otlp') throw new Error('no otlp exporter configured');
    const exporter = new OtlpHttpExporter({ ...spec.options, warn: () => {} });
    expect(exporter.exportSync([makeSpan()], 5000)).toEqual({ code: 0 });
    const [post] = await receivedOnce(c);
    expect(post).toMatchObject({ contentType: 'application/x-protobuf', clientSubject: 'localhost' });

    const anonymous = new OtlpHttpExporter({
      url: `${c.url}/v1/traces`,
      tls: { ca: spec.options.tls?.ca },
      warn: () => {},
    });
    expect(anonymous.exportSync([makeSpan()], 5000).code).toBe(1);
  });

  it("keeps the process's CA options for the helper: --use-openssl-ca on the command line", async () => {
    const c = await collector({ TLS: '1' });
    const script = `
      import { OtlpHttpExporter, Tracer } from ${JSON.stringify(DIST)};
      const span = new Tracer().startSpan('trusted by the system store');
      span.end();
      const exporter = new OtlpHttpExporter({ url: process.env.URL, warn: () => {} });
      process.stdout.write(JSON.stringify(exporter.exportSync([span], 5000).code));
    `;
    // OpenSSL's store, pointed at the test certificate: only a helper started with the same option trusts it.
    const result = spawnSync(process.execPath, ['--use-openssl-ca', '--input-type=module', '-e', script], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        URL: `${c.url}/v1/traces`,
        SSL_CERT_FILE: `${CERT_DIR}cert.pem`,
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.stdout, result.stderr).toBe('0');
    expect((await receivedOnce(c))[0]?.contentType).toBe('application/x-protobuf');
  });

  it('starts no helper from an executable pkg packed, whose binary would run a second copy of the app', () => {
    const packed = process as { pkg?: unknown };
    packed.pkg = { entrypoint: '/snapshot/app/index.js' };
    try {
      const exporter = new OtlpHttpExporter({ url: 'http://127.0.0.1:4318/v1/traces', warn: () => {} });
      const result = exporter.exportSync([makeSpan()], 5000);
      expect(result.code).toBe(1);
      expect(result.error?.message).toBe('a packaged executable cannot start a plain Node process');
    } finally {
      delete packed.pkg;
    }
  });

  it('does not bypass a subclass that overrides export() to filter spans', async () => {
    const c = await collector();
    class Redacting extends OtlpHttpExporter {
      override export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
        return super.export(spans.filter((span) => span.name !== 'secret'));
      }
    }
    const exporter = new Redacting({ url: `${c.url}/v1/traces`, protocol: 'http/json', warn: () => {} });
    const result = exporter.exportSync([makeSpan({ name: 'secret' })], 5000);
    // Before: sent as it was, the filter skipped.
    expect(result.code).toBe(1);
    expect(result.error?.message).toContain('export() is overridden');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.received()).toEqual([]);
  });

  it('takes a timeout in fractions of a millisecond without throwing', async () => {
    const closed = await closedPort();
    const exporter = new OtlpHttpExporter({
      url: `http://127.0.0.1:${closed}/v1/traces`,
      timeoutMillis: 2500.5,
      warn: () => {},
    });
    // Before: spawnSync threw ERR_OUT_OF_RANGE for 2500.5, and every delivery at the exit failed that way.
    expect(exporter.exportSync([makeSpan()], 1000.5).error?.message).toBe('connection refused');
    expect(exporter.exportSync([makeSpan()], 0).error?.message).toBe('no time left for it');
  });

  it('sends Zipkin v2 JSON', async () => {
    const c = await collector();
    const exporter = new ZipkinExporter({ url: `${c.url}/api/v2/spans`, warn: () => {} });
    expect(exporter.exportSync([makeSpan({ name: 'zipkin last words' })], 5000)).toEqual({ code: 0 });
    const [post] = await receivedOnce(c);
    expect(JSON.parse(post!.body)[0].name).toBe('zipkin last words');
  });

  it('fails at once, saying so, when nothing listens', async () => {
    const warnings: string[] = [];
    const closed = await closedPort();
    const exporter = new OtlpHttpExporter({
      url: `http://127.0.0.1:${closed}/v1/traces`,
      warn: (m) => warnings.push(m),
    });
    const started = performance.now();
    const result = exporter.exportSync([makeSpan()], 5000);
    expect(result.code).toBe(1);
    expect(result.error?.message).toBe('connection refused');
    expect(performance.now() - started).toBeLessThan(3000);
    expect(warnings.join('\n')).toContain(`127.0.0.1:${closed}`);
  });
});

/** An exporter whose deliveries are counted, failing as told. */
class SyncExporter implements SpanExporter {
  readonly delivered: (readonly ReadableSpan[])[] = [];
  constructor(private readonly result: ExportResult) {}
  export(): Promise<ExportResult> {
    return new Promise(() => {}); // an export under way when the process exits
  }
  exportSync(spans: readonly ReadableSpan[]): ExportResult {
    this.delivered.push(spans);
    return this.result;
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('BatchSpanProcessor#exportQueuedSync', () => {
  it('hands every queued batch to the exporter before returning, counting them exported', () => {
    const sync = new SyncExporter({ code: 0 });
    const processor = new BatchSpanProcessor(sync, { scheduledDelayMillis: 60_000, maxExportBatchSize: 2 });
    // The first batch of two leaves at once (an export under way); three more spans stay queued.
    for (let i = 0; i < 5; i++) processor.onEnd(makeSpan({ name: `s${i}` }));
    expect(processor.queueLength).toBe(3);
    processor.exportQueuedSync(1000);
    expect(sync.delivered.map((batch) => batch.map((s) => s.name))).toEqual([['s2', 's3'], ['s4']]);
    expect(processor.queueLength).toBe(0);
    expect(processor.stats.spansExported).toBe(3);
  });

  it('stops at the first failed batch and counts the rest as failed, not tried', () => {
    const sync = new SyncExporter({ code: 1, error: new Error('connection refused') });
    const processor = new BatchSpanProcessor(sync, { scheduledDelayMillis: 60_000, maxExportBatchSize: 2 });
    for (let i = 0; i < 7; i++) processor.onEnd(makeSpan());
    processor.exportQueuedSync(1000);
    expect(sync.delivered).toHaveLength(1);
    expect(processor.stats.exportFailures).toBe(1);
    expect(processor.stats.droppedExportFailed).toBe(5);
  });

  it('counts what an exporter without synchronous delivery cannot take as dropped at shutdown', () => {
    const exporter: SpanExporter = {
      export: () => new Promise(() => {}),
      shutdown: () => Promise.resolve(),
    };
    const processor = new BatchSpanProcessor(exporter, {
      scheduledDelayMillis: 60_000,
      maxExportBatchSize: 2,
    });
    for (let i = 0; i < 5; i++) processor.onEnd(makeSpan());
    processor.exportQueuedSync(1000);
    expect(processor.queueLength).toBe(0);
    expect(processor.stats.droppedShutdown).toBe(3);
  });
});
