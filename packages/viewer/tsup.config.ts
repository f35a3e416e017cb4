import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.config.js';

export default defineConfig(
  packageBuild({
    entry: ['src/index.ts', 'src/cli.ts'],
    dts: { entry: 'src/index.ts' },
    // The page's files are found relative to import.meta.url, which the CommonJS build needs shimmed.
    shims: true,
  }),
);
