// Instructions per request, counted by valgrind's callgrind: a comparison that the machine's noise does not move.
//   node instructions.mjs [--base=<dir>] [--framework=fastify] [--route=users] [--variants=tracewire,als]
//                         [--warmup=32768] [--requests=2048] [--functions=20] [--node-path=<node binary>] [--cache]
//                         [--connections=1]
// Each server (the base checkout's tracewire server when --base is given, then this tree's variants) runs alone
// under callgrind, takes `warmup` requests uncounted, then `requests` counted, one at a time. The count is the
// server process's instructions, its exports included (batches of 512 spans, so `requests` must be a multiple of
// 512). `--functions=N` lists the N functions whose instructions per request differ most between the first two
// servers (with one server: its N costliest). `--cache` also simulates the caches and reports their misses per
// request (about twice as slow). `--connections=N` (N > 1) loads the server with the load generator on N
// connections at once instead of one request at a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, option } from './lib/args.mjs';
import { hasCallgrind, runtimeShares, selfCostByFunction, startUnderCallgrind } from './lib/callgrind.mjs';
import { startChild } from './lib/children.mjs';
import { EXPORTING, TRACED } from './lib/measure.mjs';
import { sequentialClient } from './lib/sequential.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const BATCH = 512;

const baseDir = option('base', undefined);
const framework = option('framework', 'fastify');
const route = option('route', 'users');
const variants = option('variants', 'tracewire,als').split(',');
const warmup = Number(option('warmup', '32768'));
const requests = Number(option('requests', '2048'));
const functions = Number(option('functions', '0'));
const nodePath = option('node-path', process.execPath);
const cacheSim = flag('cache');
const connections = Number(option('connections', '1'));

if (!Number.isInteger(requests) || requests <= 0 || requests % BATCH !== 0)
  throw new RangeError(`--requests must be a positive multiple of ${BATCH}, got ${requests}`);
if (!Number.isInteger(warmup) || warmup < 0 || warmup % BATCH !== 0)
  throw new RangeError(`--warmup must be a multiple of ${BATCH}, got ${warmup}`);
if (!Number.isInteger(connections) || connections < 1)
  throw new RangeError(`--connections must be a positive integer, got ${option('connections')}`);
if (!hasCallgrind()) throw new Error('valgrind (with callgrind_control) is not on PATH');

const contenders = [
  ...(baseDir === undefined
    ? []
    : [{ name: 'base', file: join(resolve(baseDir), 'bench', 'lib', 'server.mjs'), variant: 'tracewire' }]),
  ...variants.map((variant) => ({ name: 'this tree', file: join(here, 'lib', 'server.mjs'), variant })),
];

const outDir = mkdtempSync(join(tmpdir(), 'tracewire-callgrind-'));
const sink = await startChild(join(here, 'lib', 'sink.mjs'));
const downstream = await startChild(join(here, 'lib', 'downstream.mjs'));
// More than one connection: the load generator keeps them all busy, as in a timed run.
const loader = connections > 1 ? await startChild(join(here, 'lib', 'load.mjs')) : undefined;
try {
  for (const [i, c] of contenders.entries()) await measure(c, `instructions-${i}`);
  report();
} finally {
  sink.stop();
  downstream.stop();
  loader?.stop();
  rmSync(outDir, { recursive: true, force: true });
}

async function measure(c, key) {
  const run = await startUnderCallgrind(c.file, {
    args: [framework, c.variant],
    env: {
      BENCH_DOWNSTREAM: `http://127.0.0.1:${downstream.info.port}/${key}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.info.port}/${key}`,
      // Exports only when a batch is full, never on a timer: the counted requests hold whole batches.
      OTEL_BSP_SCHEDULE_DELAY: '3600000',
    },
    execPath: nodePath,
    outDir,
    perfMap: functions > 0,
    cacheSim,
  });
  const client =
    loader === undefined
      ? sequentialClient(run.server.info.port, route)
      : concurrentClient(loader, run.server.info.port, route, connections);
  try {
    await client.send(warmup);
    const { instructions, misses, dump } = await run.count(() => client.send(requests));
    c.perRequest = instructions / requests;
    c.misses = misses;
    c.shares = runtimeShares(dump, requests);
    if (functions > 0) c.functions = selfCostByFunction(dump, run.pid, requests);
    c.problems = await validate(c, run.server, key, client.sent);
  } finally {
    client.close();
    await run.stop();
  }
}

/** `sequentialClient`'s interface over the load generator: `count` requests on `connections` at once. */
function concurrentClient(load, port, path, connections) {
  let sent = 0;
  return {
    get sent() {
      return sent;
    },
    async send(count) {
      if (count === 0) return;
      // Under valgrind a server answers some 30 times slower: give the run time.
      const result = await load.ask(
        { cmd: 'run', url: `http://127.0.0.1:${port}`, path: `/${path}`, amount: count, connections },
        1_800_000,
      );
      if (result.error) throw new Error(result.error);
      sent += result.requests;
      if (result.errors > 0 || result.non2xx > 0)
        throw new Error(`${result.errors} errors and ${result.non2xx} non-2xx answers under load`);
    },
    close() {},
  };
}

/** The same checks as a timed run's: spans exported and the trace propagated for every request, or none. */
async function validate(c, server, key, sent) {
  if (EXPORTING.has(c.variant)) {
    const flushed = await server.ask({ cmd: 'flush' });
    if (!flushed.ok) return [`flush failed: ${flushed.error}`];
  }
  const [spans, calls] = await Promise.all([sink.ask({ cmd: 'counts' }), downstream.ask({ cmd: 'counts' })]);
  const serverSpans = spans.counts[key]?.server ?? 0;
  const problems = [];
  const expected = EXPORTING.has(c.variant) ? sent : 0;
  if (serverSpans !== expected) problems.push(`sink got ${serverSpans} server spans for ${sent} requests`);
  if (route === 'chain') {
    const got = calls.counts[key] ?? { requests: 0, propagated: 0 };
    if (got.requests !== sent) problems.push(`downstream got ${got.requests} calls for ${sent} requests`);
    if (TRACED.has(c.variant) && got.propagated !== sent)
      problems.push(`the trace continued on ${got.propagated} of ${sent} downstream calls`);
  }
  return problems;
}

function report() {
  const floor = contenders.find((c) => c.variant === 'als');
  const number = (n) => Math.round(n).toLocaleString('en-US');
  let out =
    `${framework} GET /${route}/:id: instructions per request under callgrind (${nodePath} --single-threaded), ` +
    `${requests} requests after ${warmup}, ${connections === 1 ? 'one at a time' : `${connections} connections at once`}\n\n` +
    `| server | instructions/req | more than als | of which optimizing compilers | of which GC |${
      cacheSim ? ' L1 instruction misses/req | L1 data misses/req | last-level misses/req |' : ''
    } valid |\n` +
    `| --- | ---: | ---: | ---: | ---: |${cacheSim ? ' ---: | ---: | ---: |' : ''} --- |\n`;
  for (const c of contenders) {
    const extra = floor === undefined || c === floor ? '' : number(c.perRequest - floor.perRequest);
    const valid = c.problems.length === 0 ? 'yes' : `**INVALID**: ${c.problems[0]}`;
    const misses =
      c.misses === undefined
        ? ''
        : ` ${number(c.misses.instructionL1 / requests)} | ${number(c.misses.dataL1 / requests)} | ` +
          `${number(c.misses.lastLevel / requests)} |`;
    out +=
      `| ${c.name} (${c.variant}) | ${number(c.perRequest)} | ${extra} | ${number(c.shares.compiling)} | ` +
      `${number(c.shares.collecting)} |${misses} ${valid} |\n`;
    if (c.problems.length > 0) process.exitCode = 1;
  }
  if (functions > 0 && contenders.length === 1) {
    const [c] = contenders;
    const rows = [...c.functions].sort((x, y) => y[1] - x[1]).slice(0, functions);
    out += `\nFunctions with the most own instructions per request:\n\n| function | instructions/req |\n| --- | ---: |\n`;
    for (const [name, n] of rows) out += `| \`${name.slice(0, 110)}\` | ${number(n)} |\n`;
  } else if (functions > 0) {
    const [a, b] = contenders;
    const names = new Set([...a.functions.keys(), ...b.functions.keys()]);
    const rows = [...names]
      .map((name) => ({ name, a: a.functions.get(name) ?? 0, b: b.functions.get(name) ?? 0 }))
      .sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a))
      .slice(0, functions);
    out +=
      `\nFunctions whose own instructions per request differ most, ${b.name} (${b.variant}) − ${a.name} ` +
      `(${a.variant}):\n\n| function | ${a.name} | ${b.name} | difference |\n| --- | ---: | ---: | ---: |\n`;
    for (const r of rows)
      out += `| \`${r.name.slice(0, 110)}\` | ${number(r.a)} | ${number(r.b)} | ${number(r.b - r.a)} |\n`;
  }
  process.stdout.write(out);
}
