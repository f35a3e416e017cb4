import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Runs real Node processes against the built dist/, the way users load the packages.
const packages = ['core', 'node', 'express', 'koa', 'fastify', 'viewer'] as const;

function exportNames(code: string, ...args: string[]): string[] {
  const out = execFileSync(process.execPath, [...args, '-e', code], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

describe.each(packages)('@tracewire/%s', (name) => {
  const manifest = JSON.parse(readFileSync(`packages/${name}/package.json`, 'utf8')) as { name: string };

  it('loads with require() and with import, exposing the same names', () => {
    const cjs = exportNames(`console.log(JSON.stringify(Object.keys(require('${manifest.name}')).sort()))`);
    const esm = exportNames(
      `import('${manifest.name}').then((m) => console.log(JSON.stringify(Object.keys(m).sort())))`,
      '--input-type=module',
    );
    expect(esm).toEqual(cjs);
  });
});

describe.each(['express', 'koa', 'fastify'] as const)('@tracewire/%s default export', (name) => {
  it('is `tracing`, under import and under require()', () => {
    const esm = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import tracing, { tracing as named } from '@tracewire/${name}'; console.log(typeof tracing, tracing === named)`,
      ],
      { encoding: 'utf8' },
    );
    const cjs = execFileSync(
      process.execPath,
      [
        '-e',
        `const m = require('@tracewire/${name}'); console.log(typeof m.default, m.default === m.tracing)`,
      ],
      { encoding: 'utf8' },
    );
    expect([esm.trim(), cjs.trim()]).toEqual(['function true', 'function true']);
  });
});
