// Seeds a SQLite trace store with 100,000 spans and times the viewer's queries on it (median of many runs).
// Run after `pnpm build`: `pnpm --filter @tracewire/viewer bench` (or `node bench/list-query.mjs [spans]`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TraceStore } from '../dist/index.js';

const SPANS = Number(process.argv[2] ?? 100_000);
const SPANS_PER_TRACE = 5;
const SERVICES = ['gateway', 'orders', 'inventory', 'payments', 'users', 'search', 'shipping', 'email'];
const ROUTES = [
  'GET /api/orders/:id',
  'POST /api/orders',
  'GET /api/products/:sku',
  'GET /api/users/:id',
  'GET /search',
];
const NOW_US = Date.now() * 1000;

// Deterministic pseudo-random numbers, so every run seeds the same data.
let state = 42;
const random = () => {
  state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
  return state / 2_147_483_648;
};
const hex = (n, length) => n.toString(16).padStart(length, '0');

function trace(index) {
  const traceId = hex(index + 1, 32);
  const start = NOW_US - (SPANS / SPANS_PER_TRACE - index) * 2_000_000; // one trace every 2 s, up to now
  const duration = Math.round(1000 + random() ** 3 * 2_000_000);
  const failed = random() < 0.05;
  const chain = ['gateway', SERVICES[1 + Math.floor(random() * 3)], SERVICES[4 + Math.floor(random() * 4)]];
  const spans = [];
  for (let k = 0; k < SPANS_PER_TRACE; k++) {
    const service = chain[Math.min(chain.length - 1, Math.ceil(k / 2))];
    spans.push({
      traceId,
      spanId: hex(index * 8 + k + 1, 16),
      parentSpanId: k === 0 ? undefined : hex(index * 8 + k, 16),
      service,
      name: k === 0 ? ROUTES[index % ROUTES.length] : k % 2 === 1 ? 'GET' : `GET /${service}/:id`,
      kind: k === 0 ? 'server' : k % 2 === 1 ? 'client' : 'server',
      startUs: start + k * 500,
      durationUs: Math.max(1, duration - k * 1000),
      statusCode: failed && k === SPANS_PER_TRACE - 1 ? 2 : 0,
      attributes: {
        'http.request.method': 'GET',
        'http.response.status_code': failed ? 500 : 200,
        'url.path': '/x',
      },
      resource: { 'service.name': service, 'service.version': '1.0.0', 'host.name': 'bench' },
      scope: { name: '@tracewire/node', version: '0.1.0' },
      events: [],
      links: [],
    });
  }
  return spans;
}

function median(fn, runs = 25) {
  fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}

const dir = mkdtempSync(join(tmpdir(), 'tracewire-bench-'));
const store = new TraceStore(join(dir, 'traces.db'));
try {
  const t0 = performance.now();
  const batch = [];
  for (let i = 0; i < SPANS / SPANS_PER_TRACE; i++) {
    batch.push(...trace(i));
    // Receivers insert one export batch at a time; 512 spans is the batch processor's default batch size.
    if (batch.length >= 512) store.insert(batch.splice(0));
  }
  store.insert(batch.splice(0));
  const seedMs = performance.now() - t0;
  console.log(
    `seeded ${store.spanCount().toLocaleString()} spans in ${(seedMs / 1000).toFixed(1)} s (file database, WAL)`,
  );

  const deep = store.listTraces({ limit: 50, offset: 5000 }).traces.at(-1);
  const queries = [
    ['newest 50 traces (no filter)', () => store.listTraces({ limit: 50 })],
    ['service=payments', () => store.listTraces({ service: 'payments', limit: 50 })],
    [
      'service=gateway&name=POST /api/orders',
      () => store.listTraces({ service: 'gateway', name: 'POST /api/orders' }),
    ],
    ['errorsOnly', () => store.listTraces({ errorsOnly: true, limit: 50 })],
    ['minDurationMs=1500 (rare)', () => store.listTraces({ minDurationMs: 1500, limit: 50 })],
    ['last hour', () => store.listTraces({ from: Date.now() - 3_600_000, limit: 50 })],
    ['service=nope (matches nothing: worst case)', () => store.listTraces({ service: 'nope', limit: 50 })],
    ['errorsOnly&service=email', () => store.listTraces({ errorsOnly: true, service: 'email', limit: 50 })],
    ['page after 5,000 traces (cursor)', () => store.listTraces({ cursor: encode(deep), limit: 50 })],
    ['one trace', () => store.getTrace(hex(777, 32))],
    ['services', () => store.services()],
    ['operations?service=gateway', () => store.operations('gateway')],
    ['dependencies (all spans)', () => store.dependencies()],
  ];
  console.log(`\n${'query'.padEnd(44)} median`);
  for (const [name, fn] of queries) console.log(`${name.padEnd(44)} ${median(fn).toFixed(2)} ms`);
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}

function encode(summary) {
  return Buffer.from(`${summary.startUs}:${summary.traceId}`).toString('base64url');
}
