// Bytes allocated per request, by function: what feeds the garbage collector, measured with V8's sampling heap
// profiler (objects the collector already freed included).
//   node allocations.mjs [--base=<dir>] [--framework=fastify] [--route=users] [--variants=ship,tracewire]
//                        [--warmup=8192] [--requests=4096] [--functions=20] [--interval=256] [--node-path=<node>]
// Each server (the base checkout's tracewire server when --base is given, then this tree's variants) takes `warmup`
// requests unsampled, so its code has reached the tiers a busy server runs, then `requests` sampled, one at a time
// on one connection (as instructions.mjs sends them). The profiler samples an allocation about every `interval`
// bytes and scales each sample by that, so a figure is an estimate, good to a few percent for a function that
// allocates a few hundred bytes per request.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option } from './lib/args.mjs';
import { startChild } from './lib/children.mjs';
import { countedServers, countProblems, functionTable, validCell } from './lib/count-checks.mjs';
import { sequentialClient } from './lib/sequential.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

const baseDir = option('base', undefined);
const framework = option('framework', 'fastify');
const route = option('route', 'users');
const variants = option('variants', 'ship,tracewire').split(',');
const warmup = Number(option('warmup', '8192'));
const requests = Number(option('requests', '4096'));
const functions = Number(option('functions', '20'));
const interval = Number(option('interval', '256'));
const nodePath = option('node-path', process.execPath);

for (const [name, value] of Object.entries({ warmup, requests, interval })) {
  if (!Number.isInteger(value) || value < (name === 'warmup' ? 0 : 1))
    throw new RangeError(`--${name} must be a ${name === 'warmup' ? 'non-negative' : 'positive'} integer`);
}

const contenders = countedServers(baseDir, variants);

const outDir = mkdtempSync(join(tmpdir(), 'tracewire-allocations-'));
const sink = await startChild(join(here, 'lib', 'sink.mjs'));
const downstream = await startChild(join(here, 'lib', 'downstream.mjs'));
try {
  for (const [i, c] of contenders.entries()) await measure(c, `allocations-${i}`, join(outDir, `${i}.json`));
  report();
} finally {
  sink.stop();
  downstream.stop();
  rmSync(outDir, { recursive: true, force: true });
}

async function measure(c, key, file) {
  const server = await startChild(c.file, {
    args: [framework, c.variant],
    execPath: nodePath,
    env: {
      BENCH_DOWNSTREAM: `http://127.0.0.1:${downstream.info.port}/${key}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.info.port}/${key}`,
    },
  });
  const client = sequentialClient(server.info.port, route);
  try {
    await client.send(warmup);
    await ask(server, { cmd: 'heap-sampling', interval });
    await client.send(requests);
    await ask(server, { cmd: 'heap-sampling', file });
    const byFunction = bytesByFunction(JSON.parse(readFileSync(file, 'utf8')));
    c.perRequest = [...byFunction.values()].reduce((a, b) => a + b, 0) / requests;
    c.functions = new Map([...byFunction].map(([name, bytes]) => [name, bytes / requests]));
    c.problems = await countProblems({
      sink,
      downstream,
      server,
      key,
      variant: c.variant,
      route,
      sent: client.sent,
    });
  } finally {
    client.close();
    await server.stop();
  }
}

async function ask(server, message) {
  const answer = await server.ask(message);
  if (!answer.ok) throw new Error(`${message.cmd} failed: ${answer.error}`);
}

/** Self bytes per function (name, file, line) over the whole profile tree. */
function bytesByFunction(profile) {
  const totals = new Map();
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      .replace(/^file:\/\//, '')
      .replace(/^.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '');
    const name = `${functionName || '(anonymous)'} ${where.replace(/^.*\/packages\//, 'packages/')}${url ? `:${lineNumber + 1}` : ''}`;
    if (node.selfSize > 0) totals.set(name, (totals.get(name) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  return totals;
}

function report() {
  const number = (n) => Math.round(n).toLocaleString('en-US');
  let out =
    `${framework} GET /${route}/:id: bytes allocated per request (${nodePath}, V8's sampling heap profiler, ` +
    `a sample per ~${interval} bytes), ${requests} requests after ${warmup}, one at a time\n\n` +
    '| server | bytes/req | valid |\n| --- | ---: | --- |\n';
  for (const c of contenders) {
    const valid = validCell(c);
    out += `| ${c.name} (${c.variant}) | ${number(c.perRequest)} | ${valid} |\n`;
  }
  out += functionTable(contenders, functions, {
    most: 'Functions that allocate the most per request',
    differ: 'Functions whose allocations per request differ most',
    column: 'bytes/req',
  });
  process.stdout.write(out);
}
