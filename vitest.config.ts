import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (tens of seconds each: child vitest runs under other Nodes, valgrind, 34,000-case
 * fuzzing, three-service setups), started first so that the short files fill the other worker around them rather
 * than a long one starting last and running alone. Without a results cache (a fresh clone, as in CI) Vitest starts
 * the largest files first, which put the fuzz files (a few lines each) at the very end; with a cache it starts the
 * slowest first anyway. Only an order: a file missing here just runs in Vitest's own order.
 */
const SLOW_FIRST = [
  'test/bench-smoke.test.ts',
  'test/hardening/hostile-headers-koa.test.ts',
  'test/hardening/hostile-headers-express.test.ts',
  'test/hardening/hostile-headers-fastify.test.ts',
  'test/hardening/collector-faults.test.ts',
];

class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification): number => {
      const index = SLOW_FIRST.indexOf(
        relative(file.project.config.root, file.moduleId).replaceAll('\\', '/'),
      );
      return index === -1 ? SLOW_FIRST.length : index;
    };
    // Array.prototype.sort is stable: the rest keep Vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

const NODE_VERSIONS = 'test/node-versions.test.ts';

/**
 * Vitest's default is one worker fewer than the cores: one worker on a two-core machine, so the files ran one after
 * another while most of them wait on sockets and child processes. Two workers there took the whole run from about
 * 430 s to about 250 s; more cores keep the default. TRACEWIRE_TEST_MAX_WORKERS sets it: node-versions.test.ts runs
 * child vitests side by side with half each (the projects below take `maxWorkers` from here, not from the CLI).
 */
const MAX_WORKERS = Number(process.env.TRACEWIRE_TEST_MAX_WORKERS) || Math.max(2, availableParallelism() - 1);

export default defineConfig({
  resolve: { conditions: ['@tracewire/source'] },
  ssr: { resolve: { conditions: ['@tracewire/source'] } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: MAX_WORKERS,
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      {
        extends: true,
        test: {
          name: 'tracewire',
          include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, NODE_VERSIONS],
        },
      },
      // Runs the version-sensitive files again under Node 22, 24 and 26, child vitest runs side by side that keep
      // both cores busy: alone, after the rest, rather than beside a worker of the main run.
      {
        extends: true,
        test: { name: 'node-versions', include: [NODE_VERSIONS], maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
