import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { BatchSpanProcessor, InMemoryExporter, SpanKind, SpanStatusCode, Tracer } from '@tracewire/node';
import { afterEach, describe, expect, it } from 'vitest';
import { type ExportingChild, startExportingChild } from './fixtures/exporting-child.js';
import { FakeCollector } from './fixtures/fake-collector.js';
import { waitFor } from './fixtures/services.js';

// Real processes (dist/, so `pnpm build` first) exporting OTLP/JSON to a collector on 127.0.0.1. The batch delay is
// a minute: whatever reaches the collector was flushed by shutdown or exit, not by the timer.

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const SHUTDOWN_DEADLINE_MS = 5000; // shutdownOnSignals' default timeoutMillis

const children: ChildProcess[] = [];
const collectors: FakeCollector[] = [];

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const collector of collectors.splice(0)) await collector.down();
});

async function collector(): Promise<FakeCollector> {
  const c = new FakeCollector();
  await c.up();
  collectors.push(c);
  return c;
}

function start(file: string, collectorUrl: string, env: Record<string, string> = {}): ExportingChild {
  return startExportingChild(fixture(file), collectorUrl, env, children);
}

describe('SIGTERM during load', () => {
  it("ends and flushes the in-flight requests' spans with the finished ones, within the deadline", async () => {
    const otlp = await collector();
    const service = start('slow-service.mjs', otlp.url);
    await waitFor(() => /listening on (\S+)/.test(service.output()), 'the service to listen');
    const url = /listening on (\S+)/.exec(service.output())![1]!;

    for (let i = 0; i < 20; i++) await (await fetch(`${url}/fast`)).text();
    const inFlight = Array.from({ length: 10 }, () =>
      fetch(`${url}/slow`).then(
        (r) => r.status,
        () => 'cut off',
      ),
    );
    await waitFor(() => service.output().includes('slow started 10'), 'the slow requests to be in flight');
    expect(otlp.spans).toEqual([]); // nothing left on the batch timer yet

    const exited = once(service.process, 'exit');
    const signalledAt = Date.now();
    service.process.kill('SIGTERM');
    const [code, signal] = await exited;
    const took = Date.now() - signalledAt;
    // The process ends as it would have without tracewire (killed by SIGTERM), after the flush, within the deadline.
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(took).toBeLessThan(SHUTDOWN_DEADLINE_MS + 2000);
    expect(await Promise.all(inFlight)).toEqual(Array(10).fill('cut off'));

    const server = otlp.spans.filter((s) => s.kind === 2);
    const fast = server.filter((s) => s.name === 'GET /fast');
    const slow = server.filter((s) => s.name === 'GET /slow');
    expect(fast).toHaveLength(20);
    expect(slow).toHaveLength(10);
    for (const span of slow) {
      expect(span.attributes['error.type']).toBe('shutdown');
      expect(span.statusCode).toBe(SpanStatusCode.ERROR);
    }
    expect(new Set(otlp.spans.map((s) => s.spanId)).size).toBe(otlp.spans.length);
  });
});

describe('Ctrl-C in a node:cluster app', () => {
  it("waits in the primary for the workers' flush, then dies by SIGINT with every worker span exported", async () => {
    const otlp = await collector();
    // Its own process group, so the test can signal it as a terminal's Ctrl-C does: primary and workers at once.
    const primary = spawn(process.execPath, [fixture('cluster-app.mjs')], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '60000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    primary.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    primary.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    try {
      await waitFor(() => output.includes('ready'), 'the workers to end their spans');
      const exited = once(primary, 'exit');
      const signalledAt = Date.now();
      process.kill(-primary.pid!, 'SIGINT');
      const [code, signal] = await exited;
      // Before: the primary (tracewire alone there) flushed its empty queue and died at once; Node's cluster code
      // then called process.exit(0) in each worker as its IPC channel closed, before their flush was out.
      expect({ code, signal }, output).toEqual({ code: null, signal: 'SIGINT' });
      expect(Date.now() - signalledAt).toBeLessThan(SHUTDOWN_DEADLINE_MS);
      expect(otlp.spans.map((s) => s.name).sort()).toEqual([
        'worker 1 job 0',
        'worker 1 job 1',
        'worker 1 job 2',
        'worker 2 job 0',
        'worker 2 job 1',
        'worker 2 job 2',
      ]);
    } finally {
      try {
        process.kill(-primary.pid!, 'SIGKILL');
      } catch {
        // The whole group has ended.
      }
    }
  });
});

// The exporter's retry waits are unref'd so they never keep an app alive; an awaited flush must still settle.
describe('an awaited flush with the collector down', () => {
  it.each(['flush', 'shutdown'])('settles (%s) instead of letting the process end under it', async (mode) => {
    const down = await collector();
    await down.down(); // the port is free now: connections are refused, and the exporter retries
    const script = start('flush-collector-down.mjs', down.url, {
      MODE: mode,
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
    });
    const [code] = await once(script.process, 'exit');
    // Before: exit code 13 (a top-level await that never settled), within the first retry wait.
    expect(code, script.output()).toBe(0);
    const [, took, stats] = /settled after (\d+) ms (\{.*\})/.exec(script.output())!;
    expect(Number(took)).toBeLessThan(4000);
    expect(JSON.parse(stats!).exportFailures).toBeGreaterThan(0);
  });
});

describe('normal exit', () => {
  it('loses no finished span when the process exits on its own, without a flush in the app', async () => {
    const otlp = await collector();
    const app = start('exits-normally.mjs', otlp.url, { REQUESTS: '50' });
    const [code] = await once(app.process, 'exit');
    expect(code, app.output()).toBe(0);
    // One SERVER span per request (the script's own fetches are root calls, not traced by default).
    expect(otlp.spans.filter((s) => s.kind === 2)).toHaveLength(50);
    expect(new Set(otlp.spans.map((s) => s.spanId)).size).toBe(50);
  });

  it('exits within shutdownOnSignals.timeoutMillis when the collector takes the connection and never answers', async () => {
    const silent = await collector();
    silent.behaviour = { kind: 'slow', delayMillis: 60_000 };
    const app = start('exits-after-one-span.mjs', silent.url, {
      SHUTDOWN_TIMEOUT: '1000',
      OTEL_BSP_SCHEDULE_DELAY: '1000',
      OTEL_EXPORTER_OTLP_TIMEOUT: '10000',
    });
    await waitFor(() => app.output().includes('done'), 'the script to finish its work');
    const finished = performance.now();
    const [code] = await once(app.process, 'exit');
    // Before: the export's connection kept the process alive until the exporter's own 10 s timeout.
    expect(code, app.output()).toBe(0);
    expect(performance.now() - finished).toBeLessThan(4000);
    expect(silent.requests).toBeGreaterThan(0);
  });

  it('does not wait for a collector that never answers a second time, at the exit after beforeExit', async () => {
    const silent = await collector();
    silent.behaviour = { kind: 'slow', delayMillis: 60_000 };
    // One span per batch: beforeExit's flush gives up on the first POST with two batches still queued, which the
    // exit's own delivery would otherwise send to the same collector and wait for again.
    const app = start('exits-after-one-span.mjs', silent.url, {
      SPANS: '3',
      SHUTDOWN_TIMEOUT: '2000',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1',
      OTEL_EXPORTER_OTLP_TIMEOUT: '10000',
    });
    await waitFor(() => app.output().includes('done'), 'the script to finish its work');
    const finished = performance.now();
    const [code] = await once(app.process, 'exit');
    expect(code, app.output()).toBe(0);
    expect(performance.now() - finished).toBeLessThan(3200);
    expect(silent.requests).toBe(1);
  });

  it('shuts down safely when shutdown() is called twice at once and again afterwards', async () => {
    const otlp = await collector();
    const app = start('exits-normally.mjs', otlp.url, { REQUESTS: '30', DOUBLE_SHUTDOWN: '1' });
    const [code] = await once(app.process, 'exit');
    expect(code, app.output()).toBe(0);
    expect(app.output()).not.toMatch(/Error:|Unhandled|rejection/);
    const stats = JSON.parse(/stats (\{.*\})/.exec(app.output())![1]!);
    expect(stats.spansExported).toBe(30);
    expect(stats.droppedShutdown).toBe(0);
    expect(stats.instrumentationErrors).toBe(0);
    // Delivered once: no batch exported twice by the repeated calls.
    expect(otlp.spans).toHaveLength(30);
    expect(new Set(otlp.spans.map((s) => s.spanId)).size).toBe(30);
  });
});

describe('shutdown() in process', () => {
  it('ends a CLIENT span whose answer had come as that answer, not as a shutdown', async () => {
    const exporter = new InMemoryExporter();
    const tracer = new Tracer({ processors: [new BatchSpanProcessor(exporter)] });
    // A fetch whose response arrived and whose body nobody reads: its span is still open.
    tracer.startSpan('GET', { kind: SpanKind.CLIENT }).setAttribute('http.response.status_code', 200);
    tracer.startSpan('GET', { kind: SpanKind.CLIENT }).setAttribute('http.response.status_code', 503);
    await tracer.shutdown();
    const ended = exporter.getFinishedSpans().map((s) => [s.attributes['error.type'], s.status.code]);
    // Before: both ERROR with error.type shutdown.
    expect(ended).toEqual([
      [undefined, SpanStatusCode.UNSET],
      ['503', SpanStatusCode.ERROR],
    ]);
  });

  it('returns the same promise to every caller and exports each span once', async () => {
    const exporter = new InMemoryExporter();
    const tracer = new Tracer({
      processors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 })],
    });
    for (let i = 0; i < 10; i++) tracer.startSpan(`s${i}`).end();
    const first = tracer.shutdown();
    const second = tracer.shutdown();
    expect(second).toBe(first);
    await Promise.all([first, second, tracer.shutdown()]);
    expect(exporter.getFinishedSpans()).toHaveLength(10);
    tracer.startSpan('after').end();
    await tracer.shutdown();
    expect(exporter.getFinishedSpans()).toHaveLength(10);
    expect(tracer.stats.instrumentationErrors).toBe(0);
  });

  it('ends SERVER and CLIENT spans still open at shutdown as errors and exports them, leaving other kinds', async () => {
    const exporter = new InMemoryExporter();
    const tracer = new Tracer({ processors: [new BatchSpanProcessor(exporter)] });
    const server = tracer.startSpan('GET /slow', { kind: SpanKind.SERVER });
    const client = tracer.startSpan('GET', { kind: SpanKind.CLIENT });
    tracer.startSpan('internal'); // an app's own span: its business
    await tracer.shutdown();
    const names = exporter.getFinishedSpans().map((s) => [s.name, s.attributes['error.type'], s.status.code]);
    expect(names).toEqual([
      ['GET /slow', 'shutdown', SpanStatusCode.ERROR],
      ['GET', 'shutdown', SpanStatusCode.ERROR],
    ]);
    server.end(); // the request finishing later changes nothing
    expect(exporter.getFinishedSpans()).toHaveLength(2);
    expect(client.isRecording()).toBe(false);
  });
});
