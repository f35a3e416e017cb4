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

  // The adapters read `@tracewire/node`'s exports on every request; a getter per read cost a Fastify request ~3k
  // instructions (bench/instructions.mjs). Values also let a test spy on an export (`jest.spyOn`).
  it('under require(), exports values rather than getters, still marked as transpiled ESM', () => {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const m = require('${manifest.name}');
         const getters = Object.keys(m).filter((k) => !('value' in Object.getOwnPropertyDescriptor(m, k)));
         console.log(JSON.stringify({ getters, esModule: m.__esModule, listed: Object.keys(m).includes('__esModule') }))`,
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual({ getters: [], esModule: true, listed: false });
  });

  // An ES module importing the CommonJS file itself (a bundler's or a tool's choice) finds the names through Node's
  // static scan of it, which must still see them.
  it('names the same exports when an ES module imports its CommonJS file', () => {
    // `default` is the whole `module.exports` there, whatever the package exports under that name.
    const cjs = exportNames(
      `console.log(JSON.stringify(Object.keys(require('${manifest.name}')).filter((k) => k !== 'default').sort()))`,
    );
    const file = `${process.cwd()}/packages/${name}/dist/index.cjs`;
    const named = exportNames(
      `import(${JSON.stringify(file)}).then((m) => console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort())))`,
      '--input-type=module',
    );
    expect(named).toEqual(cjs);
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

// A TypeScript app compiled with library checks on (`skipLibCheck: false`) reads every module the published
// declarations import: each must be installed with the package, as a dependency or peer, with its types.
describe.each(packages)('@tracewire/%s declarations', (name) => {
  it('import only modules the package depends on, types included', () => {
    const manifest = JSON.parse(readFileSync(`packages/${name}/package.json`, 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const installed = { ...manifest.dependencies, ...manifest.peerDependencies };
    const declarations = ['index.d.ts', 'index.d.cts'].map((file) =>
      readFileSync(`packages/${name}/dist/${file}`, 'utf8'),
    );
    const imported = new Set<string>();
    for (const text of declarations) {
      for (const [, specifier] of text.matchAll(/^(?:import|export)\b[^'"]*\bfrom '([^'.][^']*)'/gm)) {
        if (specifier === undefined || specifier.startsWith('node:')) continue;
        const parts = specifier.split('/');
        imported.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
    const missing = [...imported].filter((module) => {
      if (installed[module] === undefined) return true;
      const own = JSON.parse(
        readFileSync(`packages/${name}/node_modules/${module}/package.json`, 'utf8'),
      ) as {
        types?: string;
        typings?: string;
      };
      const typed = own.types !== undefined || own.typings !== undefined;
      return !typed && installed[`@types/${module}`] === undefined;
    });
    expect(missing).toEqual([]);
  });
});
