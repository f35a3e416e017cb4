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
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option } from './lib/args.mjs';
import { startChild } from './lib/children.mjs';
import { EXPORTING, TRACED } from './lib/measure.mjs';
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

const contenders = [
  ...(baseDir === undefined
    ? []
    : [{ name: 'base', file: join(resolve(baseDir), 'bench', 'lib', 'server.mjs'), variant: 'tracewire' }]),
  ...variants.map((variant) => ({ name: 'this tree', file: join(here, 'lib', 'server.mjs'), variant })),
];

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
    c.problems = await validate(c, server, key, client.sent);
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

/** The same checks as instructions.mjs: the sampled requests were traced (or not) as the variant says. */
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
  const number = (n) => Math.round(n).toLocaleString('en-US');
  let out =
    `${framework} GET /${route}/:id: bytes allocated per request (${nodePath}, V8's sampling heap profiler, ` +
    `a sample per ~${interval} bytes), ${requests} requests after ${warmup}, one at a time\n\n` +
    '| server | bytes/req | valid |\n| --- | ---: | --- |\n';
  for (const c of contenders) {
    const valid = c.problems.length === 0 ? 'yes' : `**INVALID**: ${c.problems[0]}`;
    out += `| ${c.name} (${c.variant}) | ${number(c.perRequest)} | ${valid} |\n`;
    if (c.problems.length > 0) process.exitCode = 1;
  }
  if (functions > 0 && contenders.length === 1) {
    const rows = [...contenders[0].functions].sort((x, y) => y[1] - x[1]).slice(0, functions);
    out += '\nFunctions that allocate the most per request:\n\n| function | bytes/req |\n| --- | ---: |\n';
    for (const [name, n] of rows) out += `| \`${name.slice(0, 110)}\` | ${number(n)} |\n`;
  } else if (functions > 0) {
    const [a, b] = contenders;
    const names = new Set([...a.functions.keys(), ...b.functions.keys()]);
    const rows = [...names]
      .map((name) => ({ name, a: a.functions.get(name) ?? 0, b: b.functions.get(name) ?? 0 }))
      .sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a))
      .slice(0, functions);
    out +=
      `\nFunctions whose allocations per request differ most, ${b.name} (${b.variant}) − ${a.name} ` +
      `(${a.variant}):\n\n| function | ${a.name} | ${b.name} | difference |\n| --- | ---: | ---: | ---: |\n`;
    for (const r of rows)
      out += `| \`${r.name.slice(0, 110)}\` | ${number(r.a)} | ${number(r.b)} | ${number(r.b - r.a)} |\n`;
  }
  process.stdout.write(out);
}
