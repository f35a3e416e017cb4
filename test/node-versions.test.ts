import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';

/**
 * The suite runs on the machine's Node (20 in CI), but Node's http client and async context differ on the Nodes
 * most users run: from 22.12 requests are announced on `http.client.request.created`, Node 24.21 keeps the port a
 * request connects to (the private `kAuthority`), V8 13 (Node 24) changes how Express's route watch is installed, and
 * Node 24's `AsyncLocalStorage` keeps its stores in async context frames (which the OpenTelemetry API bridge enters);
 * the `WebSocket` global (22+) runs on a bundled undici that publishes nothing when its handshake is answered, and
 * Node 26 bundles undici 8, whose requests name their response handlers anew (and so do other undici copies' requests
 * sent through the global dispatcher, Node's);
 * OpenTelemetry's instrumentations patch modules through require hooks, which Node 22 and 24 changed; HTTP/2
 * sessions keep their origin under private symbols, and take raw header lists from 22 on.
 * The files below exercise those paths, so they run again here under the Node 22, 24 and 26 that `pnpm install`
 * puts in test/runtimes/ (22 and 26: aliases of the registry's `node` package) and bench/ (24, the same package).
 */
const VERSION_SENSITIVE = [
  'packages/node/test/outgoing-http.test.ts',
  'packages/node/test/outgoing-http-nock13.test.ts',
  'packages/node/test/outgoing-http-mock-restore.test.ts',
  'packages/node/test/shutdown-hooks.test.ts',
  'packages/node/test/outgoing-http-socket.test.ts',
  'packages/node/test/outgoing-http-proxy.test.ts',
  'packages/node/test/outgoing-fetch.test.ts',
  'packages/node/test/outgoing-websocket.test.ts',
  'packages/node/test/outgoing-concurrency.test.ts',
  'packages/node/test/outgoing-http2.test.ts',
  'packages/node/test/outgoing-undici-hops.test.ts',
  'packages/node/test/context-propagation.test.ts',
  'packages/node/test/global.test.ts',
  'packages/node/test/server-span.test.ts',
  'packages/express/test/express.test.ts',
  'packages/express/test/route-watch.test.ts',
  'packages/koa/test/koa.test.ts',
  'packages/fastify/test/fastify.test.ts',
  'test/adapters/shared-behaviour.test.ts',
  'test/adapters/http2.test.ts',
  'test/dual-package.test.ts',
  'test/outgoing-module-systems.test.ts',
  'test/outgoing-retries.test.ts',
  'test/outgoing-proxy.test.ts',
  'test/outgoing-grpc.test.ts',
  'test/adapters/nestjs.test.ts',
  'test/adapters/serverless.test.ts',
  'test/gateway-proxy.test.ts',
  'test/adapters/websocket.test.ts',
  'test/hardening/shutdown.test.ts',
  'test/interop/otel-interop.test.ts',
  'test/interop/otel-api-bridge.test.ts',
  'test/interop/otel-api-context.test.ts',
  'test/interop/otel-instrumentation.test.ts',
  'test/test-runners.test.ts',
];

const RUNTIMES = [
  { major: 22, bin: 'test/runtimes/node_modules/node22/bin/node' },
  { major: 24, bin: 'bench/node_modules/node/bin/node' },
  { major: 26, bin: 'test/runtimes/node_modules/node26/bin/node' },
];

const root = fileURLToPath(new URL('..', import.meta.url));
/** Workers of each inner run: the runs side by side get about one per core between them. */
const INNER_WORKERS = Math.max(1, Math.floor(availableParallelism() / 2));
const vitest = realpathSync(join(root, 'node_modules/vitest/vitest.mjs'));

interface JsonReport {
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: {
      ancestorTitles: string[];
      title: string;
      status: string;
      failureMessages: string[];
    }[];
  }[];
}

/** Runs vitest on `files` with `node`; resolves with its exit code, stderr and the JSON report it wrote. */
async function runUnder(node: string, files: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'tracewire-node-versions-'));
  const reportFile = join(dir, 'report.json');
  // The outer run's VITEST_* variables would make the inner vitest think it is one of the outer run's workers;
  // `--no-cache` keeps the two inner runs and the outer one from writing the same results file at once.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  try {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        node,
        [vitest, 'run', ...files, '--no-cache', '--reporter=json', `--outputFile=${reportFile}`],
        {
          cwd: root,
          env: { ...env, NO_COLOR: '1', TRACEWIRE_TEST_MAX_WORKERS: String(INNER_WORKERS) },
          timeout: 230_000,
          maxBuffer: 64 * 1024 * 1024,
        },
        (error, _stdout, stderr) => resolve({ code: error ? (error.code as number | null) : 0, stderr }),
      );
    });
    const report = existsSync(reportFile)
      ? (JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport)
      : undefined;
    return { code, stderr, report };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per failed test (or per file that failed before its tests ran): `file > test: first error line`. */
function failuresOf(report: JsonReport): string[] {
  return report.testResults.flatMap((file) => {
    const name = relative(root, file.name);
    const failed = file.assertionResults.filter((test) => test.status === 'failed');
    if (failed.length === 0 && file.status === 'failed') return [`${name}: ${firstLine(file.message)}`];
    return failed.map(
      (test) =>
        `${[name, ...test.ancestorTitles, test.title].join(' > ')}: ${firstLine(test.failureMessages[0])}`,
    );
  });
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n', 1)[0] ?? '';
}

// The Nodes run side by side, after the rest of the suite and alone (the `node-versions` project in
// vitest.config.ts), each inner run with half the cores' workers: one each on a two-core machine (about 100 s
// there for the three).
it.concurrent.for(RUNTIMES)(
  'under Node $major (installed by pnpm install), the tests of Node-version-sensitive paths pass',
  { timeout: 240_000 },
  async ({ major, bin }, { expect }) => {
    const node = join(root, bin);
    expect(existsSync(node), `${bin} is missing; pnpm install puts it there`).toBe(true);
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    expect(version.startsWith(`v${major}.`), `${bin} is ${version}`).toBe(true);

    const { code, stderr, report } = await runUnder(node, VERSION_SENSITIVE);
    expect(report, `vitest under ${version} wrote no report:\n${stderr}`).toBeDefined();
    const ran = report?.testResults.map((file) => relative(root, file.name)).sort();
    // Every comparison carries the Node version, so a failure names the Node it happened on and the tests that failed.
    expect({ node: version, ran }).toEqual({ node: version, ran: [...VERSION_SENSITIVE].sort() });
    expect({ node: version, failed: report ? failuresOf(report) : [] }).toEqual({
      node: version,
      failed: [],
    });
    expect({ node: version, exitCode: code }).toEqual({ node: version, exitCode: 0 });
  },
);
