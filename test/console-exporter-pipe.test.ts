import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';

it('keeps an app running when its stdout is closed under the console exporter (`node app.js | head`)', async () => {
  if (!existsSync('packages/node/dist/index.js')) throw new Error('run `pnpm build` before these tests');
  const child = spawn(process.execPath, ['test/fixtures/console/many-traces.mjs'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  // Read one chunk, then close the pipe: the app's next writes fail with EPIPE.
  const first = await new Promise<string>((resolve) =>
    child.stdout.once('data', (chunk: Buffer) => resolve(String(chunk))),
  );
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(killer);
  expect(first).toMatch(/^trace [0-9a-f]{32} · 1 span/);
  expect(stderr).not.toMatch(/EPIPE/);
  expect({ code, stderr: stderr.trim() }).toEqual({ code: 0, stderr: 'still running' });
});
