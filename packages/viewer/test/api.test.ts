import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startViewer, type TracePage, TraceStore, type Viewer, type ViewerOptions } from '../src/index.js';
import { SEED_BASE_US, seedSpans, traceIdOf } from './fixtures/seed.js';

const TRACES = 200;
const BASE_MS = SEED_BASE_US / 1000;
let viewer: Viewer;

beforeAll(async () => {
  // maxAgeMs is long enough that the 2024 seed timestamps survive retention at startup.
  viewer = await startViewer({
    uiPort: 0,
    otlpPort: 0,
    zipkinPort: 0,
    database: ':memory:',
    maxAgeMs: 100 * 365 * 86_400_000,
  });
  viewer.store.insert(seedSpans(TRACES));
});

afterAll(async () => {
  await viewer.close();
});

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(viewer.urls.ui + path);
  return { status: response.status, body: (await response.json()) as T };
}

async function list(query: string): Promise<TracePage> {
  const { status, body } = await get<TracePage>(`/api/traces?${query}`);
  expect(status).toBe(200);
  return body;
}

describe('GET /api/traces', () => {
  it('lists traces newest first with their summary', async () => {
    const page = await list('limit=3');
    expect(page.traces.map((t) => t.traceId)).toEqual([traceIdOf(199), traceIdOf(198), traceIdOf(197)]);
    expect(page.traces[0]).toEqual({
      traceId: traceIdOf(199),
      startUs: SEED_BASE_US + 199_000_000,
      durationUs: 100_000,
      rootService: 'gateway',
      rootName: 'GET /api/products/:sku',
      spanCount: 5,
      // 199 % 5 == 4: one of the failing traces (gateway's client span and inventory's server span).
      errorCount: 2,
      services: { gateway: 2, orders: 2, inventory: 1 },
    });
  });

  it('walks every trace exactly once by cursor, then says there is no next page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: TracePage = await list(`limit=30${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.traces.map((t) => t.traceId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(7);
    expect(new Set(seen).size).toBe(TRACES);
    expect(seen[0]).toBe(traceIdOf(199));
    expect(seen.at(-1)).toBe(traceIdOf(0));
  });

  it('pages by offset', async () => {
    const page = await list('limit=2&offset=10');
    expect(page.traces.map((t) => t.traceId)).toEqual([traceIdOf(189), traceIdOf(188)]);
  });

  it('filters by service (any span of the trace) and by span name', async () => {
    viewer.store.insert([
      {
        traceId: 'f'.repeat(32),
        spanId: 'f'.repeat(16),
        service: 'billing',
        name: 'charge',
        kind: 'internal',
        startUs: SEED_BASE_US - 5_000_000,
        durationUs: 10,
        statusCode: 0,
        attributes: {},
        resource: {},
        scope: { name: 'x' },
        events: [],
        links: [],
      },
    ]);
    expect((await list('service=billing')).traces.map((t) => t.traceId)).toEqual(['f'.repeat(32)]);
    expect((await list('service=inventory&limit=1000')).traces).toHaveLength(TRACES);
    const products = await list('name=GET%20%2Fapi%2Fproducts%2F%3Asku&limit=1000');
    expect(products.traces).toHaveLength(TRACES / 2);
    expect(products.traces.every((t) => t.rootName === 'GET /api/products/:sku')).toBe(true);
    // name applies to spans of `service` when both are given: orders has no span with the gateway's route name.
    expect((await list('service=orders&name=GET%20%2Fapi%2Fproducts%2F%3Asku')).traces).toEqual([]);
    viewer.store.db.exec(
      `DELETE FROM spans WHERE trace_id = '${'f'.repeat(32)}'; DELETE FROM traces WHERE trace_id = '${'f'.repeat(32)}'`,
    );
  });

  it('filters by minimum trace duration', async () => {
    const page = await list('minDurationMs=95&limit=1000');
    expect(page.traces).toHaveLength(TRACES / 10);
    expect(page.traces.every((t) => t.durationUs >= 95_000)).toBe(true);
  });

  it('filters to traces with errors', async () => {
    const page = await list('errorsOnly=true&limit=1000');
    expect(page.traces).toHaveLength(TRACES / 5);
    expect(page.traces.every((t) => t.errorCount === 2)).toBe(true);
  });

  it('filters by time range, as epoch ms or ISO dates', async () => {
    const page = await list(`from=${BASE_MS + 10_000}&to=${BASE_MS + 14_000}`);
    expect(page.traces.map((t) => t.traceId)).toEqual([14, 13, 12, 11, 10].map(traceIdOf));
    const iso = await list(
      `from=${new Date(BASE_MS + 10_000).toISOString()}&to=${new Date(BASE_MS + 11_000).toISOString()}`,
    );
    expect(iso.traces.map((t) => t.traceId)).toEqual([11, 10].map(traceIdOf));
  });

  it('combines filters', async () => {
    const page = await list(`errorsOnly=true&minDurationMs=60&service=inventory&to=${BASE_MS + 60_000}`);
    // Failing traces are i % 5 == 4; lasting >= 60 ms needs i % 10 >= 5: so i % 10 == 9, and i <= 60.
    expect(page.traces.map((t) => t.traceId)).toEqual([59, 49, 39, 29, 19, 9].map(traceIdOf));
  });

  it.each([
    'limit=0',
    'limit=abc',
    'limit=5000',
    'minDurationMs=-1',
    'errorsOnly=yes',
    'from=yesterday',
    'offset=1.5',
    'cursor=bm9wZQ',
  ])('answers 400 to %s', async (query) => {
    const { status, body } = await get<{ error: string }>(`/api/traces?${query}`);
    expect(status).toBe(400);
    expect(body.error).toMatch(/limit|minDurationMs|errorsOnly|from|offset|cursor/);
  });
});

describe('GET /api/traces/:traceId', () => {
  it('returns every span of the trace, ordered by start time', async () => {
    const { status, body } = await get<{
      traceId: string;
      durationUs: number;
      spans: { service: string; name: string }[];
    }>(`/api/traces/${traceIdOf(4)}`);
    expect(status).toBe(200);
    expect(body.durationUs).toBe(50_000);
    expect(body.spans.map((s) => `${s.service} ${s.name}`)).toEqual([
      'gateway GET /api/orders/:id',
      'gateway GET',
      'orders GET /orders/:id',
      'orders GET',
      'inventory GET /inventory/:sku',
    ]);
    expect(body.spans[4]).toMatchObject({ statusCode: 2, statusMessage: 'out of stock' });
  });

  it('answers 404 to an unknown trace and 400 to something that is not a trace id', async () => {
    expect((await get(`/api/traces/${'e'.repeat(32)}`)).status).toBe(404);
    expect((await get('/api/traces/nope')).status).toBe(400);
  });
});

describe('services, operations and dependencies', () => {
  it('lists services', async () => {
    expect((await get('/api/services')).body).toEqual({ services: ['gateway', 'inventory', 'orders'] });
  });

  it("lists a service's operations with span counts", async () => {
    expect((await get('/api/operations?service=orders')).body).toEqual({
      operations: [
        { name: 'GET', spanCount: TRACES },
        { name: 'GET /orders/:id', spanCount: TRACES },
      ],
    });
  });

  it('counts calls between services and the calls that failed', async () => {
    expect((await get('/api/dependencies')).body).toEqual({
      dependencies: [
        // gateway's client span failed in every fifth trace; the orders server span never did.
        { parent: 'gateway', child: 'orders', calls: TRACES, errors: TRACES / 5 },
        { parent: 'orders', child: 'inventory', calls: TRACES, errors: TRACES / 5 },
      ],
    });
    const recent = await get<{ dependencies: { calls: number }[] }>(
      `/api/dependencies?from=${BASE_MS + 190_000}`,
    );
    expect(recent.body.dependencies.map((d) => d.calls)).toEqual([10, 10]);
  });

  it('answers 404 to unknown API paths and 405 to writes', async () => {
    expect((await get('/api/nothing')).status).toBe(404);
    expect((await fetch(`${viewer.urls.ui}/api/traces`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('the page', () => {
  it('serves the HTML, script and stylesheet from the package', async () => {
    const html = await fetch(`${viewer.urls.ui}/`);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(await html.text()).toContain('<script src="app.js"');
    expect((await fetch(`${viewer.urls.ui}/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${viewer.urls.ui}/style.css`)).status).toBe(200);
    expect((await fetch(`${viewer.urls.ui}/../package.json`)).status).toBe(404);
  });
});

describe('trace summaries', () => {
  it('follow late spans: the real root replaces a stand-in once it arrives, and counts and duration grow', () => {
    const store = new TraceStore(':memory:');
    const [root, client, orders, ...rest] = seedSpans(1);
    store.insert([orders!, ...rest]);
    expect(store.listTraces().traces[0]).toMatchObject({ rootService: 'orders', spanCount: 3 });
    store.insert([root!, client!]);
    expect(store.listTraces().traces[0]).toMatchObject({
      rootService: 'gateway',
      rootName: 'GET /api/orders/:id',
      spanCount: 5,
      durationUs: 10_000,
      services: { gateway: 2, orders: 2, inventory: 1 },
    });
    // A retried export replaces spans rather than counting them twice.
    store.insert([root!, client!]);
    expect(store.spanCount()).toBe(5);
    store.close();
  });
});

describe('retention', () => {
  it('deletes whole traces, oldest first, down to maxSpans', () => {
    const store = new TraceStore(':memory:');
    store.insert(seedSpans(20));
    expect(store.enforceRetention({ maxSpans: 52, maxAgeMs: Number.MAX_SAFE_INTEGER })).toBe(50);
    expect(store.spanCount()).toBe(50);
    const left = store.listTraces({ limit: 100 }).traces.map((t) => t.traceId);
    expect(left).toHaveLength(10);
    expect(left.at(-1)).toBe(traceIdOf(10));
    store.close();
  });

  it('deletes traces that ended longer ago than maxAgeMs', () => {
    const store = new TraceStore(':memory:');
    store.insert(seedSpans(20));
    // "Now" is just after trace 14 ended, and traces older than 5 s go: 0..9 end before now - 5 s.
    const now = BASE_MS + 14_000 + 200;
    store.enforceRetention({ maxSpans: 1_000_000, maxAgeMs: 5000, now });
    const left = store.listTraces({ limit: 100 }).traces.map((t) => t.traceId);
    expect(left.at(-1)).toBe(traceIdOf(10));
    expect(left).toHaveLength(10);
    store.close();
  });

  it('runs on its own every retentionIntervalMs', async () => {
    const own = await startViewer({
      uiPort: 0,
      otlpPort: 0,
      zipkinPort: 0,
      database: ':memory:',
      maxSpans: 10,
      maxAgeMs: 1e13,
      retentionIntervalMs: 20,
    });
    try {
      own.store.insert(seedSpans(5));
      const deadline = Date.now() + 5000;
      while (own.store.spanCount() > 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(own.store.spanCount()).toBe(10);
    } finally {
      await own.close();
    }
  });
});

describe('storage and options', () => {
  it('keeps traces in a WAL-mode SQLite file across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracewire-viewer-'));
    const database = join(dir, 'nested', 'traces.db');
    try {
      const first = await startViewer({ uiPort: 0, otlpPort: 0, zipkinPort: 0, database, maxAgeMs: 1e13 });
      first.store.insert(seedSpans(3));
      expect(first.store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      await first.close();
      const second = await startViewer({ uiPort: 0, otlpPort: 0, zipkinPort: 0, database, maxAgeMs: 1e13 });
      expect(second.store.listTraces().traces).toHaveLength(3);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves both receivers from one server when given the same port', async () => {
    const probe = await startViewer({ uiPort: 0, otlpPort: 0, zipkinPort: 0, database: ':memory:' });
    const port = Number(new URL(probe.urls.otlp).port);
    await probe.close();
    const same = await startViewer({ uiPort: 0, otlpPort: port, zipkinPort: port, database: ':memory:' });
    try {
      expect(new URL(same.urls.zipkin).port).toBe(String(port));
    } finally {
      await same.close();
    }
  });

  it.each<[ViewerOptions, RegExp]>([
    [{ uiPort: 70000 }, /uiPort must be an integer port from 0 to 65535/],
    [{ otlpPort: -1 }, /otlpPort/],
    [{ maxSpans: 0 }, /maxSpans must be a positive number/],
    [{ maxBodyBytes: Number.NaN }, /maxBodyBytes/],
    [{ database: '' }, /database must be a file path or ":memory:"/],
  ])('rejects %o naming the option', async (options, message) => {
    await expect(startViewer({ ...options, database: options.database ?? ':memory:' })).rejects.toThrow(
      message,
    );
  });

  it('fails to start, closing what it opened, when a port is taken', async () => {
    await expect(
      startViewer({
        uiPort: 0,
        otlpPort: 0,
        zipkinPort: Number(new URL(viewer.urls.ui).port),
        database: ':memory:',
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
