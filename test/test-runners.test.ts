import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// An app's own Jest suite, run for real: Jest gives each test file a `globalThis` and a module registry of its own
// (tracewire is loaded again per file) while `node:http` and its diagnostics channels are the process's.
const suite = 'test/fixtures/jest-suite';
const jest = 'node_modules/jest/bin/jest.js';

beforeAll(() => {
  if (!existsSync('packages/node/dist/index.cjs')) throw new Error('run `pnpm build` before these tests');
});

function runJest(resultFile: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(process.cwd(), jest), '--runInBand', '--no-watchman', '--ci'],
      {
        cwd: suite,
        env: { ...process.env, NODE_OPTIONS: '', RESULT_FILE: resultFile, OTEL_TRACES_EXPORTER: 'none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('an app tested with Jest', () => {
  it('keeps one instrumentation of node:http across test files, which a later shutdown takes out whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracewire-jest-'));
    try {
      const resultFile = join(dir, 'result.json');
      const { code, output } = await runJest(resultFile);
      expect(code, output).toBe(0);
      expect(output).toMatch(/Tests:\s+4 passed, 4 total/);
      // Before: each file installed its own on top of the last and nothing took them out (4 files: http.get
      // wrapped 4 deep, 4 subscribers per channel, every file's modules kept), and the teardown's shutdown took out
      // only its own.
      expect(JSON.parse(readFileSync(resultFile, 'utf8'))).toEqual({
        httpGetIsOriginal: true,
        subscribed: [],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
