// Extract + inject throughput of tracewire's propagators next to OpenTelemetry's, measured in one process,
// interleaved round by round so both see the same machine state. Imports the built dist of @tracewire/core
// (run `pnpm --filter @tracewire/core build` first; the bench:propagation script does).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import {
  b3,
  generateSpanId,
  generateTraceId,
  lowercaseHeadersGetter,
  w3cTraceContext,
} from '@tracewire/core';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 300);
const POOL = 1024;

// What a Node server sees: lowercase names, a dozen ordinary headers around the trace headers.
function baseHeaders() {
  return {
    host: 'api.example.test',
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) bench',
    accept: 'application/json',
    'accept-encoding': 'gzip, deflate, br',
    'accept-language': 'en-US,en;q=0.9',
    connection: 'keep-alive',
    'content-type': 'application/json',
    'content-length': '42',
    'x-request-id': 'req-0001',
    'x-forwarded-for': '203.0.113.7',
  };
}

// Node's HTTP parser hands over flat strings; template literals would make rope (cons) strings instead, which
// are slower to read character by character. Copying through a Buffer gives what a real request holds.
const flat = (v) => Buffer.from(v, 'latin1').toString('latin1');

// Built as Node's parser builds req.headers: names added one by one to an empty object, values never replaced.
// (Replacing the values of an object literal afterwards leaves the pool spread over several hidden classes, which
// makes every property read in the benchmark megamorphic: a cost no real request pays.)
function pool(make) {
  return Array.from({ length: POOL }, () => {
    const headers = {};
    const source = { ...baseHeaders(), ...make(generateTraceId(), generateSpanId()) };
    for (const name of Object.keys(source)) headers[name] = flat(source[name]);
    return headers;
  });
}

const traceparentPool = pool((t, s) => ({
  traceparent: `00-${t}-${s}-01`,
  tracestate: `rojo=${s},congo=t61rcWkgMzE`,
}));
const b3Pool = pool((t, s) => ({ b3: `${t}-${s}-1` }));
const b3MultiPool = pool((t, s) => ({ 'x-b3-traceid': t, 'x-b3-spanid': s, 'x-b3-sampled': '1' }));

// Both sides read the way their server instrumentation does: tracewire's server span extracts through
// lowercaseHeadersGetter (Node lowercases incoming names), OpenTelemetry's through defaultTextMapGetter, which
// also looks names up exactly as given.
function tracewireCase(propagator) {
  return (headers) => {
    const out = {};
    propagator.inject(propagator.extract(headers, lowercaseHeadersGetter), out);
    return out;
  };
}

function otelCase(propagator) {
  return (headers) => {
    const out = {};
    propagator.inject(
      propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
      out,
      defaultTextMapSetter,
    );
    return out;
  };
}

const scenarios = [
  {
    name: 'traceparent+tracestate',
    headers: traceparentPool,
    tracewire: tracewireCase(w3cTraceContext),
    otel: otelCase(new W3CTraceContextPropagator()),
  },
  {
    name: 'b3 single',
    headers: b3Pool,
    tracewire: tracewireCase(b3()),
    otel: otelCase(new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER })),
  },
  {
    name: 'b3 multi',
    headers: b3MultiPool,
    tracewire: tracewireCase(b3({ inject: 'multi' })),
    otel: otelCase(new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER })),
  },
];

// Both sides must do the same work: same ids out as in.
for (const s of scenarios) {
  const h = s.headers[0];
  const a = s.tracewire(h);
  const b = s.otel(h);
  const key = Object.keys(a).sort().join();
  if (key !== Object.keys(b).sort().join() || Object.keys(a).some((k) => a[k] !== b[k])) {
    throw new Error(
      `${s.name}: outputs differ\n tracewire ${JSON.stringify(a)}\n otel      ${JSON.stringify(b)}`,
    );
  }
  if (trace.getSpanContext(ROOT_CONTEXT) !== undefined) throw new Error('unexpected root span context');
}

let sink = 0;
function measure(fn, headers) {
  let ops = 0;
  let i = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ROUND_MS) {
    for (let j = 0; j < 1000; j++) {
      sink += Object.keys(fn(headers[i])).length;
      i = (i + 1) & (POOL - 1);
    }
    ops += 1000;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US').padStart(12);

function run(s) {
  // Warm both up so the JIT has compiled each before the first timed round.
  measure(s.tracewire, s.headers);
  measure(s.otel, s.headers);
  const tw = [];
  const ot = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate who goes first so drift in machine load does not favour one side.
    if (r % 2 === 0) {
      tw.push(measure(s.tracewire, s.headers));
      ot.push(measure(s.otel, s.headers));
    } else {
      ot.push(measure(s.otel, s.headers));
      tw.push(measure(s.tracewire, s.headers));
    }
  }
  // Reading the sink keeps the engine from discarding the measured work.
  if (sink === 0) throw new Error('no headers were written');
  return { tracewire: median(tw), otel: median(ot) };
}

const only = process.argv.indexOf('--scenario');
if (only !== -1) {
  // Child: one scenario, result as JSON on stdout.
  const s = scenarios.find((x) => x.name === process.argv[only + 1]);
  if (s === undefined) throw new Error(`unknown scenario ${process.argv[only + 1]}`);
  process.stdout.write(JSON.stringify(run(s)));
} else {
  console.log(
    `node ${process.version}; ${ROUNDS} interleaved rounds of ${ROUND_MS} ms per contender; median ops/s`,
  );
  console.log(
    `${'extract+inject'.padEnd(24)}${'tracewire'.padStart(12)}${'OpenTelemetry'.padStart(15)}   ratio`,
  );
  let worst = Number.POSITIVE_INFINITY;
  for (const s of scenarios) {
    // Each scenario runs in a fresh process, so the JIT feedback one format leaves behind (header shapes,
    // call targets) does not slow the next one down, on either side.
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--scenario', s.name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (child.status !== 0) throw new Error(`scenario ${s.name} failed`);
    const { tracewire, otel } = JSON.parse(child.stdout);
    const ratio = tracewire / otel;
    worst = Math.min(worst, ratio);
    console.log(`${s.name.padEnd(24)}${fmt(tracewire)}${fmt(otel)}   ${ratio.toFixed(2)}x`);
  }
  console.log(`lowest ratio ${worst.toFixed(2)}x (target >= 3x)`);
}
