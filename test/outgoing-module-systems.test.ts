import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Real `node` processes run fixture apps against the built dist/, the way a service loads @tracewire/node: a
// CommonJS app, an ES module app started with no --import/--loader flag, and that app bundled into one file.
const fixtures = 'test/fixtures/outgoing';
const ca = `${fixtures}/cert.pem`;

const cjsCalls = [
  'http-request',
  'http-get',
  'https-request',
  'https-get',
  'fetch',
  'undici-request',
  'undici-fetch',
  'axios',
  'axios-https',
];
const esmCalls = [
  'default-import-http-request',
  'named-import-request',
  'named-import-get',
  'named-import-https-request',
  'default-import-https-get',
  'fetch',
  'undici-request',
  'undici-fetch',
  'axios',
  'axios-https',
  // got is an ES module only (v14, for Node 20); the CommonJS app cannot require it there.
  'got',
  'got-https',
];

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
}
interface ReportedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  url?: string;
}
interface Run {
  received: Received[];
  spans: ReportedSpan[];
  calls: string[];
  restored: boolean;
}

let received: Received[] = [];
const recorder: http.RequestListener = (req, res) => {
  received.push({ path: req.url ?? '', headers: req.headers });
  req.resume();
  req.on('end', () => res.end('ok'));
};
const plain = http.createServer(recorder);
const secure = https.createServer(
  { cert: readFileSync(ca), key: readFileSync(`${fixtures}/key.pem`) },
  recorder,
);
let bundleDir: string;

beforeAll(async () => {
  for (const file of [
    'packages/core/dist/index.cjs',
    'packages/node/dist/index.cjs',
    'packages/node/dist/index.js',
  ]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm build\` before these tests`);
  }
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
  // Outside the workspace, so the bundles cannot fall back on node_modules: they must carry everything.
  bundleDir = mkdtempSync(join(tmpdir(), 'tracewire-outgoing-'));
  const common: BuildOptions = {
    entryPoints: [`${fixtures}/app.mjs`],
    bundle: true,
    platform: 'node',
    target: 'node20',
  };
  await build({ ...common, format: 'cjs', outfile: join(bundleDir, 'app.cjs'), logLevel: 'error' });
  await build({
    ...common,
    format: 'esm',
    outfile: join(bundleDir, 'app.mjs'),
    logLevel: 'error',
    // The usual banner for ESM bundles that contain CommonJS dependencies (axios' node build requires builtins).
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
});

afterAll(async () => {
  plain.closeAllConnections();
  secure.closeAllConnections();
  await new Promise((resolve) => plain.close(resolve));
  await new Promise((resolve) => secure.close(resolve));
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

async function runApp(file: string): Promise<Run> {
  received = [];
  const child = spawn(process.execPath, [file], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      DOWNSTREAM_HTTP: `http://127.0.0.1:${(plain.address() as AddressInfo).port}`,
      DOWNSTREAM_HTTPS: `https://127.0.0.1:${(secure.address() as AddressInfo).port}`,
      CA_FILE: ca,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(killer);
  if (code !== 0) throw new Error(`${file} exited with ${code}: ${stderr}`);
  const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Omit<Run, 'received'>;
  return { ...report, received: [...received] };
}

const apps: [string, () => string, string[]][] = [
  ['CommonJS app (require)', () => `${fixtures}/app.cjs`, cjsCalls],
  ['ES module app (no --import flag)', () => `${fixtures}/app.mjs`, esmCalls],
  ['app bundled by esbuild to one CommonJS file', () => join(bundleDir, 'app.cjs'), esmCalls],
  ['app bundled by esbuild to one ES module file', () => join(bundleDir, 'app.mjs'), esmCalls],
];

describe.each(apps)('%s', (_name, file, calls) => {
  let run: Run;
  beforeAll(async () => {
    run = await runApp(file());
  });

  it('makes every call it was meant to make', () => {
    expect(run.calls).toEqual(calls);
    expect(run.received.map((r) => r.path.slice(1)).sort()).toEqual([...calls].sort());
  });

  it('gets the original request/get functions back after tracer.shutdown()', () => {
    expect(run.restored).toBe(true);
  });

  it.each(calls)(
    "%s carries exactly one traceparent: its client span's, child of the active span",
    (call) => {
      const request = run.received.find((r) => r.path === `/${call}`);
      const header = request?.headers.traceparent;
      expect(header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const [, traceId, spanId] = String(header).split('-');

      const clientSpans = run.spans.filter((s) => s.kind === 2 && s.url?.endsWith(`/${call}`));
      expect(clientSpans).toHaveLength(1);
      const client = clientSpans[0]!;
      const job = run.spans.find((s) => s.name === `job ${call}`);
      expect(client.spanId).toBe(spanId);
      expect(client.traceId).toBe(traceId);
      expect(client.name).toBe('GET');
      expect(client.parentSpanId).toBe(job?.spanId);
      expect(client.traceId).toBe(job?.traceId);
    },
  );
});
