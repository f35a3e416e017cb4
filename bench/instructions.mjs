// Instructions per request, counted by valgrind's callgrind: a comparison that the machine's noise does not move.
//   node instructions.mjs [--base=<dir>] [--framework=fastify] [--route=users] [--variants=tracewire,als]
//                         [--warmup=32768] [--requests=2048] [--functions=20] [--node-path=<node binary>] [--cache]
//                         [--connections=1] [--first=<route>:<count>] [--callers=<function>]
// Each server (the base checkout's tracewire server when --base is given, then this tree's variants) runs alone
// under callgrind, takes `warmup` requests uncounted, then `requests` counted, one at a time. The count is the
// server process's instructions, its exports included (batches of 512 spans, so `requests` must be a multiple of
// 512). `--functions=N` lists the N functions whose instructions per request differ most between the first two
// servers (with one server: its N costliest). `--cache` also simulates the caches and reports their misses per
// request (about twice as slow). `--connections=N` (N > 1) loads the server with the load generator on N
// connections at once instead of one request at a time. `--first=chain:4096` sends that many requests to the other
// route before the warm-up: a server whose routes do different work (one of them calling out) runs the counted
// route in the state the other left it in. `--callers=KeyedStoreIC_Megamorphic` lists who calls the functions whose
// names contain it, and what those calls cost per request (a V8 builtin says how generic an access is, not whose).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, option } from './lib/args.mjs';
import {
  callerCosts,
  hasCallgrind,
  runtimeShares,
  selfCostByFunction,
  startUnderCallgrind,
} from './lib/callgrind.mjs';
import { startChild } from './lib/children.mjs';
import { countedServers, countProblems, functionTable, validCell } from './lib/count-checks.mjs';
import { sequentialClient } from './lib/sequential.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const BATCH = 512;
/** Instructions per request in V8's optimizing compilers above which a count measured a warm-up (bench/README.md). */
const STEADY_COMPILING = 500;

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
const callersOf = option('callers', undefined);

if (!Number.isInteger(requests) || requests <= 0 || requests % BATCH !== 0)
  throw new RangeError(`--requests must be a positive multiple of ${BATCH}, got ${requests}`);
if (!Number.isInteger(warmup) || warmup < 0 || warmup % BATCH !== 0)
  throw new RangeError(`--warmup must be a multiple of ${BATCH}, got ${warmup}`);
if (!Number.isInteger(connections) || connections < 1)
  throw new RangeError(`--connections must be a positive integer, got ${option('connections')}`);
const first = firstRequests(option('first', undefined));
if (!hasCallgrind()) throw new Error('valgrind (with callgrind_control) is not on PATH');

const contenders = countedServers(baseDir, variants);

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
    perfMap: functions > 0 || callersOf !== undefined,
    cacheSim,
  });
  const clientFor = (path) =>
    loader === undefined
      ? sequentialClient(run.server.info.port, path)
      : concurrentClient(loader, run.server.info.port, path, connections);
  const client = clientFor(route);
  const before = first === undefined ? undefined : clientFor(first.route);
  try {
    if (before !== undefined) await before.send(first.count);
    await client.send(warmup);
    const { instructions, misses, dump } = await run.count(() => client.send(requests));
    c.perRequest = instructions / requests;
    c.misses = misses;
    c.shares = runtimeShares(dump, requests);
    if (functions > 0) c.functions = selfCostByFunction(dump, run.pid, requests);
    if (callersOf !== undefined) c.callers = callerCosts(dump, run.pid, requests, callersOf);
    c.problems = await countProblems({
      sink,
      downstream,
      server: run.server,
      key,
      variant: c.variant,
      route,
      sent: client.sent + (before?.sent ?? 0),
      calledOut: route === 'chain' ? client.sent : first?.route === 'chain' ? before.sent : 0,
    });
  } finally {
    before?.close();
    client.close();
    await run.stop();
  }
}

/** `--first=<route>:<count>`: requests to another route, before the warm-up; whole batches, like the rest. */
function firstRequests(value) {
  if (value === undefined) return undefined;
  const [path, count] = value.split(':');
  if (
    !['users', 'chain'].includes(path) ||
    path === route ||
    !(Number(count) > 0) ||
    Number(count) % BATCH !== 0
  )
    throw new RangeError(
      `--first must be the other route and a multiple of ${BATCH} (chain:4096), got ${value}`,
    );
  return { route: path, count: Number(count) };
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
    const valid = validCell(c);
    const misses =
      c.misses === undefined
        ? ''
        : ` ${number(c.misses.instructionL1 / requests)} | ${number(c.misses.dataL1 / requests)} | ` +
          `${number(c.misses.lastLevel / requests)} |`;
    out +=
      `| ${c.name} (${c.variant}) | ${number(c.perRequest)} | ${extra} | ${number(c.shares.compiling)} | ` +
      `${number(c.shares.collecting)} |${misses} ${valid} |\n`;
  }
  const warming = contenders.filter((c) => c.shares.compiling > STEADY_COMPILING);
  if (warming.length > 0)
    out +=
      `\nStill warming up: ${warming.map((c) => `${c.name} (${c.variant})`).join(', ')} spent more than ` +
      `${STEADY_COMPILING} instructions per request in V8's optimizing compilers, which a steady state does not: ` +
      `compare with care, or count again with a longer --warmup (${warmup * 2}).\n`;
  out += functionTable(contenders, functions, {
    most: 'Functions with the most own instructions per request',
    differ: 'Functions whose own instructions per request differ most',
    column: 'instructions/req',
  });
  if (callersOf !== undefined) {
    const callers = contenders.map((c) => ({ ...c, functions: c.callers }));
    out += functionTable(callers, functions > 0 ? functions : 20, {
      most: `Callers of \`${callersOf}\`, with what their calls into it cost per request`,
      differ: `Callers of \`${callersOf}\` whose calls into it cost most differently per request`,
      column: 'instructions/req',
    });
  }
  process.stdout.write(out);
}
