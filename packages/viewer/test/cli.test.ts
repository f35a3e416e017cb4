import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

// Real processes against the built dist/ (run `pnpm build` first), the way `tracewire-viewer` and users load it.
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('../bin/tracewire-viewer.js', import.meta.url));
const run = promisify(execFile);
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
});

function startCli(args: string[]): Promise<{ output: string; urls: { ui: string; otlp: string } }> {
  child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`viewer did not start:\n${output}`)), 10_000);
    child!.on('exit', (code) => reject(new Error(`viewer exited with ${code}:\n${output}`)));
    const onData = (chunk: Buffer): void => {
      output += chunk;
      const ui = /viewer on (http:\/\/\S+)/.exec(output)?.[1];
      const otlp = /OTEL_EXPORTER_OTLP_ENDPOINT=(http:\/\/[^)\s]+)/.exec(output)?.[1];
      if (ui && otlp && output.includes('storage')) {
        clearTimeout(timer);
        resolve({ output, urls: { ui, otlp } });
      }
    };
    child!.stdout!.on('data', onData);
    child!.stderr!.on('data', onData);
  });
}

describe('tracewire-viewer', () => {
  it('starts on the given ports, prints where it listens, serves the page, and exits 0 on SIGTERM', async () => {
    const { output, urls } = await startCli([
      '--port',
      '0',
      '--otlp-port',
      '0',
      '--zipkin-port',
      '0',
      '--db',
      ':memory:',
    ]);
    expect(output).toMatch(/Zipkin v2\s+http:\/\/127\.0\.0\.1:\d+\/api\/v2\/spans/);
    const page = await fetch(`${urls.ui}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('tracewire viewer');
    const stored = await fetch(`${urls.otlp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              { spans: [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }] },
            ],
          },
        ],
      }),
    });
    expect(stored.status).toBe(200);
    const exited = once(child!, 'exit');
    child!.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });

  it('prints its options with --help', async () => {
    const { stdout } = await run(process.execPath, [cli, '--help']);
    expect(stdout).toMatch(/--otlp-port <n>.*4318/);
    expect(stdout).toMatch(/--max-age <dur>/);
  });

  it('refuses a bad option value, naming it, with exit code 1', async () => {
    await expect(run(process.execPath, [cli, '--max-age', 'soon'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--max-age must be/),
    });
  });
});

describe('the CommonJS build', () => {
  it('starts a viewer whose page is found from dist/index.cjs', async () => {
    const script = `
      const { startViewer } = require('@tracewire/viewer');
      startViewer({ uiPort: 0, otlpPort: 0, zipkinPort: 0, database: ':memory:' }).then(async (viewer) => {
        const page = await fetch(viewer.urls.ui + '/style.css');
        console.log(page.status);
        await viewer.close();
      });`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: packageDir });
    expect(stdout.trim()).toBe('200');
  });
});
