// Entry point: `node run.mjs [--quick | --smoke] [--node=20|24|both] [--frameworks=express,koa,fastify]
// [--no-soak] [--no-micro]`. Servers, sink, downstream and load generator each run in their own process; variants
// are interleaved round by round; every traced run is checked against the sink and the downstream.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, option } from './lib/args.mjs';
import { startChild } from './lib/children.mjs';
import { CONNECTIONS, measureRun } from './lib/measure.mjs';
import { report } from './lib/report.mjs';
import { rotated } from './lib/rotated.mjs';
import { runSoak } from './lib/soak.mjs';
import { cpuTimes, stealShare } from './lib/steal.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const lib = (name) => join(here, 'lib', name);

const mode = flag('smoke') ? 'smoke' : flag('quick') ? 'quick' : 'full';
// Seconds per measured run, rounds, warm-up seconds per cell, soak requests.
const SIZES = {
  smoke: { rounds: 1, seconds: 0.25, warmup: 0, soak: 0 },
  quick: { rounds: 3, seconds: 0.4, warmup: 0.3, soak: 20_000 },
  full: { rounds: 5, seconds: 1.3, warmup: 0.5, soak: 150_000 },
};
const size = SIZES[mode];
const FRAMEWORKS = option('frameworks', 'express,koa,fastify').split(',');
const VARIANTS = option('variants', 'bare,als,ship,tracewire,otel').split(',');
const ROUTES = option('routes', 'users,chain').split(',');
const profileDir = option('cpu-prof', undefined);

/** The system Node (the first `node` on PATH outside node_modules: pnpm puts the `node` package's bin first). */
function systemNode() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir.includes('node_modules')) continue;
    const candidate = join(dir, 'node');
    if (existsSync(candidate)) return candidate;
  }
  return process.execPath;
}

function nodeVersion(execPath) {
  return spawnSync(execPath, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

function runtimes() {
  const wanted = option('node', mode === 'smoke' ? '20' : 'both');
  const node20 = systemNode();
  const node24 = join(here, 'node_modules', 'node', 'bin', 'node');
  const list = [];
  if (wanted === 'current') list.push(process.execPath);
  if (wanted === '20' || wanted === 'both') list.push(node20);
  if ((wanted === '24' || wanted === 'both') && existsSync(node24)) list.push(node24);
  if (list.length === 0) throw new RangeError(`--node must be 20, 24, both or current, got ${wanted}`);
  return list.map((execPath) => ({ execPath, version: nodeVersion(execPath) }));
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function benchRuntime(runtime, infra) {
  const { sink, downstream } = infra;
  const cells = [];
  const servers = [];
  try {
    // Started together: they only load code until the first run.
    const started = await Promise.allSettled(
      FRAMEWORKS.flatMap((framework) =>
        VARIANTS.map(async (variant) => {
          const key = `${runtime.version}-${framework}-${variant}`.replaceAll('.', '_');
          const server = await startChild(lib('server.mjs'), {
            args: [framework, variant],
            execPath: runtime.execPath,
            // --cpu-prof=<dir>: every server writes a V8 CPU profile there when it exits.
            execArgv: profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
            env: {
              BENCH_DOWNSTREAM: `http://127.0.0.1:${downstream.info.port}/${key}`,
              OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.info.port}/${key}`,
            },
          });
          servers.push(server);
          for (const route of ROUTES) cells.push({ framework, variant, route, key, server, runs: [] });
        }),
      ),
    );
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const order = (c) =>
      (FRAMEWORKS.indexOf(c.framework) * VARIANTS.length + VARIANTS.indexOf(c.variant)) * ROUTES.length +
      ROUTES.indexOf(c.route);
    cells.sort((a, b) => order(a) - order(b));

    async function measure(cell, seconds, record) {
      const run = await measureRun(cell, infra, { seconds });
      if (record) cell.runs.push(run);
      return run;
    }

    if (size.warmup > 0) {
      process.stderr.write(`[${runtime.version}] warm-up\n`);
      for (const cell of cells) await measure(cell, size.warmup, false);
    }
    for (let round = 0; round < size.rounds; round++) {
      process.stderr.write(`[${runtime.version}] round ${round + 1}/${size.rounds}\n`);
      // Each framework/route's variants back to back, so drift hits them alike; the order turns by one each round
      // (A B C D E, B C D E A, …), so no variant always runs first or always follows the same neighbour.
      const variants = rotated(VARIANTS, round);
      for (const route of ROUTES) {
        for (const framework of FRAMEWORKS) {
          for (const variant of variants) {
            const cell = cells.find(
              (c) => c.route === route && c.framework === framework && c.variant === variant,
            );
            await measure(cell, size.seconds, true);
          }
        }
      }
    }
  } finally {
    // Requests still in flight when a run's load stopped end after its flush; the servers deliver those spans as
    // they exit, which needs the sink still up.
    await Promise.all(servers.map((s) => s.stop()));
  }
  return cells;
}

function buildDependencies() {
  if (flag('no-build')) return;
  const result = spawnSync('pnpm', ['--filter', '@tracewire/bench^...', 'build'], {
    cwd: here,
    stdio: ['ignore', 'ignore', 'inherit'],
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) throw new Error('building the tracewire packages failed');
}

function runMicro(runtime) {
  process.stdout.write(`\n### Propagation micro-benchmark (${runtime.version})\n\n`);
  const env = { ...process.env };
  if (mode === 'quick') Object.assign(env, { BENCH_ROUNDS: '3', BENCH_ROUND_MS: '150' });
  spawnSync(runtime.execPath, [join(here, 'propagation.mjs')], { stdio: 'inherit', env });
}

async function main() {
  buildDependencies();
  const started = Date.now();
  const list = runtimes();
  // The sink, downstream and load generator stay on the system Node whichever runtime the servers use.
  const infraNode = { execPath: systemNode() };
  const sink = await startChild(lib('sink.mjs'), infraNode);
  const downstream = await startChild(lib('downstream.mjs'), infraNode);
  const loader = await startChild(lib('load.mjs'), infraNode);
  const infra = { sink, downstream, loader };
  let invalid = 0;
  try {
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
    process.stdout.write(
      `# tracewire benchmark (${mode}) — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\n` +
        `Machine: ${machine}; ${os.type()} ${os.release()}. autocannon: ${CONNECTIONS} connections, ` +
        `${size.rounds} interleaved round(s) of ${size.seconds} s per cell after ${size.warmup} s warm-up.\n`,
    );
    for (const runtime of list) {
      const before = cpuTimes();
      const cells = await benchRuntime(runtime, infra);
      const steal = stealShare(before, cpuTimes());
      invalid += report(runtime, cells, { mode, steal, write: (s) => process.stdout.write(s) });
      if (size.soak > 0 && !flag('no-soak')) {
        await runSoak(runtime, { loader, requests: size.soak, connections: CONNECTIONS, freePort });
      }
      if (mode !== 'smoke' && !flag('no-micro')) runMicro(runtime);
    }
  } finally {
    sink.stop();
    downstream.stop();
    loader.stop();
  }
  process.stdout.write(`\nTotal time: ${Math.round((Date.now() - started) / 1000)} s\n`);
  if (invalid > 0) {
    process.stderr.write(`${invalid} invalid run(s)\n`);
    process.exitCode = 1;
  }
}

await main();
