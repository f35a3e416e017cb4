import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The benchmark is not a CI test; this only checks that it still works: every server variant starts, every traced
// run (and every `ship` run) reaches the sink with one SERVER span per request, and the downstream sees the load's
// trace continue.
describe('bench --smoke', () => {
  it('runs one tiny round of every framework, route and variant with every run valid', () => {
    const result = spawnSync(process.execPath, ['bench/run.mjs', '--smoke', '--no-build'], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    // The table says why a run was invalid (its last column): shown when this fails.
    const invalidRows = result.stdout.split('\n').filter((line) => line.includes('**INVALID**'));
    expect(result.stderr, invalidRows.join('\n')).not.toMatch(/invalid run/);
    expect(result.status).toBe(0);
    const rows = result.stdout.split('\n').filter((line) => /^\| (express|koa|fastify) \|/.test(line));
    expect(rows).toHaveLength(30);
    for (const row of rows) expect(row).toMatch(/\| 1\/1 \|$/);
  }, 120_000);
});

describe('bench/compare.mjs', () => {
  it('runs two checkouts (here the same one twice) and the als floor side by side, every run valid', () => {
    const result = spawnSync(
      process.execPath,
      ['bench/compare.mjs', '--base=.', '--rounds=1', '--seconds=0.3', '--rate=2000'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status).toBe(0);
    const rows = result.stdout.split('\n').filter((line) => /^\| (base|this tree|als floor) /.test(line));
    expect(rows.map((row) => row.split(' | ')[0])).toEqual([
      '| base (tracewire)',
      '| this tree (tracewire)',
      '| als floor (als)',
    ]);
    for (const row of rows) expect(row).toMatch(/\| 1\/1 \|$/);
  }, 90_000);
});

const hasCallgrind = spawnSync('callgrind_control', ['--version']).status === 0;

describe('bench/instructions.mjs', () => {
  it.skipIf(!hasCallgrind)(
    'counts a tracewire server under callgrind with every span exported, and its simulated cache misses',
    () => {
      const result = spawnSync(
        process.execPath,
        [
          'bench/instructions.mjs',
          '--variants=tracewire',
          '--warmup=0',
          '--requests=512',
          '--functions=3',
          '--cache',
        ],
        { encoding: 'utf8', timeout: 240_000 },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const row = result.stdout.split('\n').find((line) => line.startsWith('| this tree (tracewire) |'));
      expect(row).toMatch(/^\| this tree \(tracewire\) \| [\d,]+ \| {2}(\| [\d,]+ ){5}\| yes \|$/);
      const [count, compiling, instructionMisses, dataMisses, lastLevelMisses] = [1, 3, 5, 6, 7].map(
        (column) => Number(row?.split(' | ')[column]?.replaceAll(',', '')),
      );
      // A request through Fastify takes tens of thousands of instructions: a zero or tiny count measured nothing.
      expect(count).toBeGreaterThan(20_000);
      // Counted from a cold start, so V8 optimized the hot functions inside the count: a part of it, not all.
      expect(compiling).toBeGreaterThan(0);
      expect(compiling).toBeLessThan(count!);
      // Code and data met for the first time miss every cache; far fewer misses than instructions all the same.
      for (const misses of [instructionMisses, dataMisses, lastLevelMisses]) {
        expect(misses).toBeGreaterThan(0);
        expect(misses).toBeLessThan(count! / 2);
      }
      expect(lastLevelMisses).toBeLessThan(instructionMisses! + dataMisses!);
      // The function table reads the instructions column of a dump that has one per simulated event.
      const functionRows = result.stdout.split('\n').filter((line) => /^\| `[^`]+` \| [\d,]+ \|$/.test(line));
      expect(functionRows).toHaveLength(3);
    },
    300_000,
  );

  it.skipIf(!hasCallgrind)(
    'counts a server that the load generator keeps busy on several connections',
    () => {
      const result = spawnSync(
        process.execPath,
        ['bench/instructions.mjs', '--variants=tracewire', '--warmup=0', '--requests=512', '--connections=4'],
        { encoding: 'utf8', timeout: 240_000 },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('512 requests after 0, 4 connections at once');
      // Every request answered and its span exported: the same validation as one request at a time.
      const row = result.stdout.split('\n').find((line) => line.startsWith('| this tree (tracewire) |'));
      expect(row).toMatch(/\| yes \|$/);
      expect(Number(row?.split(' | ')[1]?.replaceAll(',', ''))).toBeGreaterThan(20_000);
    },
    300_000,
  );
});

describe('bench/allocations.mjs', () => {
  it("samples what each server allocates per request and names tracewire's own allocating functions", () => {
    const result = spawnSync(
      process.execPath,
      ['bench/allocations.mjs', '--warmup=256', '--requests=256', '--functions=40'],
      { encoding: 'utf8', timeout: 90_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const bytes = (server: string) => {
      const row = result.stdout.split('\n').find((line) => line.startsWith(`| this tree (${server}) |`));
      expect(row).toMatch(/\| yes \|$/);
      return Number(row?.split(' | ')[1]?.replaceAll(',', ''));
    };
    // Both run Fastify and deliver a span per request; only tracewire records one: it must allocate more.
    expect(bytes('ship')).toBeGreaterThan(1000);
    expect(bytes('tracewire')).toBeGreaterThan(bytes('ship'));
    const tracewireRows = result.stdout
      .split('\n')
      .filter((line) => /^\| `\S+ packages\/(node|core|fastify)\/dist\//.test(line));
    expect(tracewireRows.length).toBeGreaterThan(0);
  }, 120_000);
});
