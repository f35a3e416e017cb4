import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCollector } from './fixtures/fake-collector.js';
import { runLoad } from './fixtures/load.js';
import {
  type DemoServices,
  dropped,
  pending,
  readStats,
  type ServiceStats,
  serviceList,
  startDemoServices,
  tracewireWarnings,
  waitFor,
} from './fixtures/services.js';

// The demo's three services (Express → Koa → Fastify, real processes) exporting OTLP/JSON to a collector the test
// controls. Whatever the collector does, every request is answered, memory stays bounded, counters add up, and
// each service warns at most once. Latency is compared only loosely with a healthy run in the same test.

const MAX_QUEUE = 1024;
const BATCH = 128;
// One request to /api/orders/1 ends 6 spans: gateway server + client, orders server + client, inventory server and
// its warehouse client's span (started through @opentelemetry/api).
const SPANS_PER_REQUEST = 6;

function exporterEnv(collector: FakeCollector, queue = MAX_QUEUE, batch = BATCH): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_BSP_MAX_QUEUE_SIZE: String(queue),
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: String(batch),
    OTEL_BSP_EXPORT_TIMEOUT: '3000',
  };
}

async function allStats(demo: DemoServices): Promise<Record<string, ServiceStats>> {
  const out: Record<string, ServiceStats> = {};
  for (const [name, service] of serviceList(demo)) out[name] = await readStats(service);
  return out;
}

/** Waits until every ended span is either delivered or counted as dropped, in every service. */
async function settled(demo: DemoServices): Promise<Record<string, ServiceStats>> {
  let last: Record<string, ServiceStats> = {};
  await waitFor(async () => {
    last = await allStats(demo);
    return Object.values(last).every((s) => pending(s) === 0);
  }, 'every span delivered or counted as dropped');
  return last;
}

function total(stats: Record<string, ServiceStats>, read: (s: ServiceStats) => number): number {
  return Object.values(stats).reduce((n, s) => n + read(s), 0);
}

function uniqueSpanIds(collector: FakeCollector): number {
  return new Set(collector.spans.map((s) => s.spanId)).size;
}

/** Loose on purpose: this machine is shared and noisy; the point is "did not hang behind the collector". */
function latencyBound(healthyP99: number): number {
  return healthyP99 * 5 + 1500;
}

describe('collector faults in a running three-service setup', () => {
  const collector = new FakeCollector();
  let demo: DemoServices;
  let healthyP99 = 0;
  let baseRss: Record<string, number> = {};

  beforeAll(async () => {
    await collector.up();
    demo = await startDemoServices(exporterEnv(collector));
  });

  afterAll(async () => {
    await demo?.stop();
    await collector.down();
  });

  it('delivers every span of a healthy run (the baseline)', async () => {
    const load = await runLoad(`${demo.gatewayUrl}/api/orders/1`, 200, 10);
    expect(load.failures).toEqual([]);
    expect(load.statuses.every((s) => s === 200)).toBe(true);
    healthyP99 = load.p99;
    const stats = await settled(demo);
    expect(total(stats, dropped)).toBe(0);
    expect(total(stats, (s) => s.spansExported)).toBe(200 * SPANS_PER_REQUEST);
    expect(uniqueSpanIds(collector)).toBe(200 * SPANS_PER_REQUEST);
    baseRss = Object.fromEntries(Object.entries(stats).map(([name, s]) => [name, s.rss]));
  });

  it('answers every request while the collector goes down mid-run, and delivers the queued spans when it returns', async () => {
    const before = uniqueSpanIds(collector);
    const loading = runLoad(`${demo.gatewayUrl}/api/orders/1`, 800, 10);
    await new Promise((r) => setTimeout(r, 300));
    await collector.down();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    // Mid-outage: what is held is bounded by the queue plus the batch being retried.
    const during = await allStats(demo);
    for (const s of Object.values(during)) expect(pending(s)).toBeLessThanOrEqual(MAX_QUEUE + BATCH);
    await collector.up();
    const upAt = Date.now();
    const load = await loading;
    expect(load.failures).toEqual([]);
    expect(load.statuses.every((s) => s === 200)).toBe(true);
    expect(load.p99).toBeLessThan(latencyBound(healthyP99));

    const stats = await settled(demo);
    // Spans that ended while nothing listened were held and reached the collector once it was back.
    expect(collector.spansStartedBetween(downAt, upAt).length).toBeGreaterThan(0);
    expect(uniqueSpanIds(collector) - before).toBeGreaterThanOrEqual(
      total(stats, (s) => s.spansExported) - 200 * SPANS_PER_REQUEST,
    );
    for (const [name, s] of Object.entries(stats)) {
      // 100 MB over the healthy run's footprint would mean spans piling up somewhere.
      expect(s.rss - (baseRss[name] ?? 0), `${name} RSS growth`).toBeLessThan(100 * 1024 * 1024);
    }
  });

  it('answers every request while the collector answers slowly', async () => {
    collector.behaviour = { kind: 'slow', delayMillis: 1500 };
    const load = await runLoad(`${demo.gatewayUrl}/api/orders/1`, 300, 10);
    expect(load.failures).toEqual([]);
    expect(load.statuses.every((s) => s === 200)).toBe(true);
    expect(load.p99).toBeLessThan(latencyBound(healthyP99));
    const during = await allStats(demo);
    for (const s of Object.values(during)) expect(pending(s)).toBeLessThanOrEqual(MAX_QUEUE + BATCH);
    collector.behaviour = { kind: 'ok' };
    await settled(demo);
  });

  it('answers every request and counts the spans a collector answering 500 refused', async () => {
    const before = await allStats(demo);
    collector.behaviour = { kind: 'status', status: 500 };
    const requestsBefore = collector.requests;
    const load = await runLoad(`${demo.gatewayUrl}/api/orders/1`, 200, 10);
    expect(load.failures).toEqual([]);
    expect(load.statuses.every((s) => s === 200)).toBe(true);
    const stats = await settled(demo);
    collector.behaviour = { kind: 'ok' };
    expect(collector.requests).toBeGreaterThan(requestsBefore);
    // 500 is final (OTLP/HTTP §Failures): those batches are dropped and counted, not retried forever.
    expect(total(stats, (s) => s.droppedExportFailed) - total(before, (s) => s.droppedExportFailed)).toBe(
      200 * SPANS_PER_REQUEST,
    );
  });

  it('answers every request while the collector answers 429, and delivers once it accepts again', async () => {
    collector.behaviour = { kind: 'status', status: 429, retryAfterSeconds: 1 };
    const from = Date.now();
    const load = await runLoad(`${demo.gatewayUrl}/api/orders/1`, 200, 10);
    expect(load.failures).toEqual([]);
    expect(load.statuses.every((s) => s === 200)).toBe(true);
    expect(load.p99).toBeLessThan(latencyBound(healthyP99));
    // 429 is retryable: batches being retried when the collector recovers get through.
    collector.behaviour = { kind: 'ok' };
    await settled(demo);
    expect(collector.spansStartedBetween(from, Date.now()).length).toBeGreaterThan(0);
  });

  it('warned about the failing collector at most once per service and outage, never per span', () => {
    const warnings = serviceList(demo).map(([, service]) => tracewireWarnings(service));
    // One line as the first outage starts (the next ones fall within its 5 minutes) and, once an export gets
    // through, one saying it ended. Spans piling up behind the outage may also fill the queue, which has its
    // own line, at most once in those 5 minutes too.
    for (const lines of warnings) {
      const queueFull = lines.filter(isQueueFull).length;
      const ended = lines.filter(isRecovery).length;
      const outages = lines.length - queueFull - ended;
      expect(queueFull).toBeLessThanOrEqual(1);
      expect(outages).toBeLessThanOrEqual(1);
      expect(ended).toBeLessThanOrEqual(outages);
    }
    expect(warnings.flat().length).toBeGreaterThanOrEqual(1);
  });
});

describe('collector down when the services start', () => {
  const collector = new FakeCollector();
  let demo: DemoServices;

  beforeAll(async () => {
    await collector.up();
    await collector.down(); // keeps the port; nothing listens on it
    demo = await startDemoServices(exporterEnv(collector));
  });

  afterAll(async () => {
    await demo?.stop();
    await collector.down();
  });

  it('answers every request, holds a bounded queue, delivers it when the collector appears, and warns once', async () => {
    const startedAt = Date.now();
    const load = await runLoad(`${demo.gatewayUrl}/api/orders/1`, 300, 10);
    expect(load.failures).toEqual([]);
    expect(load.statuses.every((s) => s === 200)).toBe(true);
    const during = await allStats(demo);
    for (const s of Object.values(during)) expect(pending(s)).toBeLessThanOrEqual(MAX_QUEUE + BATCH);
    await collector.up();
    const upAt = Date.now();
    const stats = await settled(demo);
    expect(collector.spansStartedBetween(startedAt, upAt).length).toBeGreaterThan(0);
    expect(uniqueSpanIds(collector)).toBeGreaterThanOrEqual(total(stats, (s) => s.spansExported));
    expect(total(stats, (s) => s.spansExported) + total(stats, dropped)).toBe(300 * SPANS_PER_REQUEST);
    // One line per service as the outage starts (or, where the queue filled first, that line: one per 5 minutes
    // in all), and one when an export gets through again: only a service that exported since knows it did.
    for (const [name, service] of serviceList(demo)) {
      const first = tracewireWarnings(service)[0];
      if (first === undefined || !/cannot send spans/.test(first) || stats[name]!.spansExported === 0) {
        expect(tracewireWarnings(service), name).toHaveLength(first === undefined ? 0 : 1);
        continue;
      }
      // The child's stderr may arrive after its stats said the spans left.
      await waitFor(
        () => tracewireWarnings(service).some(isRecovery),
        `${name}'s line that the outage ended`,
      );
      const lines = tracewireWarnings(service);
      expect(lines, name).toHaveLength(2);
      expect(lines[1]).toMatch(/is sending spans to .* again/);
    }
    expect(
      serviceList(demo).flatMap(([, service]) => tracewireWarnings(service)).length,
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('collector accepting spans slower than the services produce them', () => {
  const collector = new FakeCollector();
  let demo: DemoServices;

  beforeAll(async () => {
    await collector.up();
    collector.behaviour = { kind: 'slow', delayMillis: 1000 };
    demo = await startDemoServices(exporterEnv(collector, 64, 32));
  });

  afterAll(async () => {
    await demo?.stop();
    await collector.down();
  });

  it('answers every request, drops what overflows the queue, counts it and says so once', async () => {
    const load = await runLoad(`${demo.gatewayUrl}/api/orders/1`, 300, 10);
    expect(load.failures).toEqual([]);
    expect(load.statuses.every((s) => s === 200)).toBe(true);
    const stats = await settled(demo);
    expect(stats.gateway!.droppedQueueFull).toBeGreaterThan(0);
    expect(total(stats, (s) => s.droppedExportFailed)).toBe(0);
    expect(uniqueSpanIds(collector)).toBe(total(stats, (s) => s.spansExported));
    for (const [name, service] of serviceList(demo)) {
      const lines = tracewireWarnings(service);
      // Exports succeed, so the only thing to report is the full queue: once, and only where spans were dropped.
      expect(lines, name).toHaveLength(stats[name]!.droppedQueueFull > 0 ? 1 : 0);
      for (const line of lines) expect(line).toMatch(/span queue is full \(64 spans\)/);
    }
  });
});

function isQueueFull(line: string): boolean {
  return /span queue is full/.test(line);
}

function isRecovery(line: string): boolean {
  return / again \(/.test(line);
}
