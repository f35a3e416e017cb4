import type { Options } from 'tsup';

/**
 * esbuild gives a CommonJS build's exports as getters (`get: () => from[key]`, over a second getter per name) so
 * that they stay live bindings. Every `pkg.fn` a CommonJS caller reads then runs both getters and a lookup V8 soon
 * handles as megamorphic, which the adapters do on every request: ~3k instructions per Fastify request. Nothing a
 * package exports is ever reassigned, so plain data properties lose nothing.
 */
const PLAIN_CJS_EXPORTS =
  'module.exports = Object.defineProperty({ ...module.exports }, "__esModule", { value: true });';

/** How every published package is built: ESM and CommonJS with types, for Node 20 and later. */
export function packageBuild(options: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    footer: ({ format }) => (format === 'cjs' ? { js: PLAIN_CJS_EXPORTS } : undefined),
    ...options,
  };
}
