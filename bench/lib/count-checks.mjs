// What instructions.mjs and allocations.mjs share about the servers they count: which servers, the checks that their
// requests were traced (or not) as their variants say, and the table of their functions' costs per request.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPORTING, sinkCountsLanded, TRACED } from './measure.mjs';

/** The servers to count: another checkout's tracewire server first when `baseDir` is given, then this tree's `variants`. */
export function countedServers(baseDir, variants) {
  return [
    ...(baseDir === undefined
      ? []
      : [{ name: 'base', file: join(resolve(baseDir), 'bench', 'lib', 'server.mjs'), variant: 'tracewire' }]),
    ...variants.map((variant) => ({
      name: 'this tree',
      file: fileURLToPath(new URL('./server.mjs', import.meta.url)),
      variant,
    })),
  ];
}

/**
 * The same checks as a timed run's: spans exported and the trace propagated for every request, or none. `sent`
 * counts every request the server answered; `calledOut` those of them that called the downstream.
 */
export async function countProblems({
  sink,
  downstream,
  server,
  key,
  variant,
  route,
  sent,
  calledOut = route === 'chain' ? sent : 0,
}) {
  if (EXPORTING.has(variant)) {
    const flushed = await server.ask({ cmd: 'flush' });
    if (!flushed.ok) return [`flush failed: ${flushed.error}`];
  }
  const [afterFlush, calls] = await Promise.all([
    sink.ask({ cmd: 'counts' }),
    downstream.ask({ cmd: 'counts' }),
  ]);
  const spans = EXPORTING.has(variant)
    ? await sinkCountsLanded(sink, key, undefined, sent, afterFlush)
    : afterFlush;
  const serverSpans = spans.counts[key]?.server ?? 0;
  const problems = [];
  const expected = EXPORTING.has(variant) ? sent : 0;
  if (serverSpans !== expected) problems.push(`sink got ${serverSpans} server spans for ${sent} requests`);
  if (calledOut > 0) {
    const got = calls.counts[key] ?? { requests: 0, propagated: 0 };
    if (got.requests !== calledOut)
      problems.push(`downstream got ${got.requests} calls for ${calledOut} requests`);
    if (TRACED.has(variant) && got.propagated !== calledOut)
      problems.push(`the trace continued on ${got.propagated} of ${calledOut} downstream calls`);
  }
  return problems;
}

const number = (n) => Math.round(n).toLocaleString('en-US');

/** A counted server's "valid" cell; a server with problems also makes the process exit with 1. */
export function validCell(server) {
  if (server.problems.length === 0) return 'yes';
  process.exitCode = 1;
  return `**INVALID**: ${server.problems[0]}`;
}

/**
 * The `limit` functions (each contender's `functions`: name → cost per request) that cost one server the most, or
 * that differ most between the first two: `most` and `differ` title those tables, `column` heads the cost's column.
 */
export function functionTable(contenders, limit, { most, differ, column }) {
  if (limit <= 0) return '';
  if (contenders.length === 1) {
    const rows = [...contenders[0].functions].sort((x, y) => y[1] - x[1]).slice(0, limit);
    let out = `\n${most}:\n\n| function | ${column} |\n| --- | ---: |\n`;
    for (const [name, n] of rows) out += `| \`${name.slice(0, 110)}\` | ${number(n)} |\n`;
    return out;
  }
  const [a, b] = contenders;
  const names = new Set([...a.functions.keys(), ...b.functions.keys()]);
  const rows = [...names]
    .map((name) => ({ name, a: a.functions.get(name) ?? 0, b: b.functions.get(name) ?? 0 }))
    .sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a))
    .slice(0, limit);
  let out =
    `\n${differ}, ${b.name} (${b.variant}) − ${a.name} (${a.variant}):\n\n` +
    `| function | ${a.name} | ${b.name} | difference |\n| --- | ---: | ---: | ---: |\n`;
  for (const r of rows)
    out += `| \`${r.name.slice(0, 110)}\` | ${number(r.a)} | ${number(r.b)} | ${number(r.b - r.a)} |\n`;
  return out;
}
