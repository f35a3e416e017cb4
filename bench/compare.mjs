// Compares the tracewire servers of two checkouts side by side:
//   node compare.mjs --base=<dir> [--framework=koa] [--route=users] [--rate=8000] [--rounds=10] [--seconds=2]
//                    [--node-path=<node binary the servers run on>]
// <dir> is another checkout of this repository, installed and built (`git worktree add ../base <commit>`, then
// `pnpm install && pnpm build` in it). Each tree's `bench/lib/server.mjs` runs the tracewire variant, next to an
// `als` server as the floor, against this tree's sink, downstream and load generator, interleaved round by round.
// At a fixed rate (the default) every server sees the same load, so CPU µs/req compares the work each does;
// `--rate=0` loads them as fast as they answer instead.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option } from './lib/args.mjs';
import { startChild } from './lib/children.mjs';
import { CONNECTIONS, measureRun } from './lib/measure.mjs';
import { median } from './lib/median.mjs';
import { rotated } from './lib/rotated.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

const baseDir = option('base', undefined);
if (baseDir === undefined)
  throw new TypeError('--base=<dir> is required: another checkout, installed and built');
const baseServer = join(resolve(baseDir), 'bench', 'lib', 'server.mjs');
if (!existsSync(baseServer)) throw new RangeError(`--base: ${baseServer} does not exist`);
const framework = option('framework', 'koa');
const route = option('route', 'users');
const rate = Number(option('rate', '8000'));
const rounds = Number(option('rounds', '10'));
const seconds = Number(option('seconds', '2'));
const nodePath = option('node-path', process.execPath);

const sink = await startChild(join(here, 'lib', 'sink.mjs'));
const downstream = await startChild(join(here, 'lib', 'downstream.mjs'));
const loader = await startChild(join(here, 'lib', 'load.mjs'));
const contenders = [
  { name: 'base', file: baseServer, variant: 'tracewire' },
  { name: 'this tree', file: join(here, 'lib', 'server.mjs'), variant: 'tracewire' },
  { name: 'als floor', file: join(here, 'lib', 'server.mjs'), variant: 'als' },
];
try {
  for (const [i, c] of contenders.entries()) {
    const key = `compare-${i}`;
    c.key = key;
    c.runs = [];
    c.server = await startChild(c.file, {
      args: [framework, c.variant],
      execPath: nodePath,
      env: {
        BENCH_DOWNSTREAM: `http://127.0.0.1:${downstream.info.port}/${key}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.info.port}/${key}`,
      },
    });
  }
  // Round 0 warms every server up and is not recorded.
  const infra = { sink, downstream, loader };
  for (let round = 0; round <= rounds; round++) {
    // The order turns each round: a server that always ran second would carry that slot's bias (an A/A run of
    // one build in both slots read ~1.4 µs/req apart).
    for (const c of rotated(contenders, round)) {
      const run = await measureRun({ ...c, route }, infra, { seconds, rate: rate > 0 ? rate : undefined });
      if (round > 0) c.runs.push(run);
    }
  }
  const load = rate > 0 ? `${rate} req/s` : 'as fast as answered';
  process.stdout.write(
    `${framework} GET /${route}/:id, ${load}, ${CONNECTIONS} connections, ${rounds} interleaved round(s) of ${seconds} s\n\n` +
      '| server | CPU µs/req (median) | CPU µs/req (min) | req/s | p99 ms | valid runs |\n' +
      '| --- | ---: | ---: | ---: | ---: | --- |\n',
  );
  for (const c of contenders) {
    const cpu = c.runs.map((r) => r.cpuPerRequest);
    const ok = c.runs.filter((r) => r.problems.length === 0).length;
    process.stdout.write(
      `| ${c.name} (${c.variant}) | ${median(cpu).toFixed(1)} | ${Math.min(...cpu).toFixed(1)} | ` +
        `${median(c.runs.map((r) => r.rps)).toFixed(0)} | ${median(c.runs.map((r) => r.p99)).toFixed(2)} | ` +
        `${ok}/${c.runs.length} |\n`,
    );
    if (ok < c.runs.length) process.exitCode = 1;
  }
} finally {
  // The servers deliver the spans of requests that ended after the last flush as they exit: keep the sink up.
  await Promise.all(contenders.map((c) => c.server?.stop()));
  sink.stop();
  downstream.stop();
  loader.stop();
}
