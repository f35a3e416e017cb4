import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@tracewire/source'] },
  ssr: { resolve: { conditions: ['@tracewire/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
