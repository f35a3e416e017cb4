// Markdown tables for one runtime: every cell's medians, then the targets from issue 7 checked against them.
import { median } from './median.mjs';

const fixed = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
const ROUTE_NAMES = { users: 'GET /users/:id', chain: 'GET /chain/:id' };
/** bare costing this much more CPU per request than als, and at least SLOW_BARE_MICROS more, marks its row. */
const SLOW_BARE = 1.1;
const SLOW_BARE_MICROS = 5;

/** Per-round ratio to bare (runs of one round are adjacent in time), then the median over rounds. */
function ratio(cell, bare) {
  return median(cell.runs.map((run, i) => run.rps / bare.runs[i]?.rps));
}

/** Writes the tables; returns how many runs were invalid. */
export function report(runtime, cells, { mode, write, steal }) {
  let invalidRuns = 0;
  const find = (framework, route, variant) =>
    cells.find((c) => c.framework === framework && c.route === route && c.variant === variant);
  write(`\n## Node ${runtime.version.replace(/^v/, '')}\n\n`);
  write(
    '| framework | route | variant | req/s | × bare | p50 ms | p99 ms | CPU µs/req | sink µs/req | load µs/req | RSS MB | spans/req | valid runs |\n',
  );
  write('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n');
  for (const cell of cells) {
    const bad = cell.runs.filter((r) => r.problems.length > 0);
    invalidRuns += bad.length;
    cell.invalid = bad.length > 0;
    const bare = find(cell.framework, cell.route, 'bare');
    cell.ratio = cell.variant === 'bare' ? 1 : ratio(cell, bare);
    cell.rps = median(cell.runs.map((r) => r.rps));
    cell.p50 = median(cell.runs.map((r) => r.p50));
    cell.p99 = median(cell.runs.map((r) => r.p99));
    cell.cpu = median(cell.runs.map((r) => r.cpuPerRequest));
    const sinkCpu = median(cell.runs.map((r) => r.sinkCpuPerRequest));
    const loadCpu = median(cell.runs.map((r) => r.loadCpuPerRequest));
    const requests = cell.runs.reduce((n, r) => n + r.requests, 0);
    const spans = cell.runs.reduce((n, r) => n + r.spans, 0);
    const validity = cell.invalid
      ? `**INVALID** ${bad.length}/${cell.runs.length}: ${bad[0].problems.join('; ')}`
      : `${cell.runs.length}/${cell.runs.length}`;
    const shown = (text) => (cell.invalid ? '—' : text);
    write(
      `| ${cell.framework} | ${ROUTE_NAMES[cell.route]} | ${cell.variant} | ${shown(fixed(cell.rps, 0))} | ` +
        `${shown(fixed(cell.ratio, 2))} | ${shown(fixed(cell.p50, 2))} | ${shown(fixed(cell.p99, 2))} | ${shown(fixed(cell.cpu, 0))} | ` +
        `${shown(fixed(sinkCpu, 1))} | ${shown(fixed(loadCpu, 0))} | ` +
        `${fixed(median(cell.runs.map((r) => r.rss)) / 2 ** 20, 0)} | ${requests > 0 ? fixed(spans / requests, 1) : '—'} | ${validity} |\n`,
    );
  }
  if (mode === 'smoke') return invalidRuns;

  write(
    "\nTargets (tracewire vs the same run's bare, als and OpenTelemetry cells; ship is als plus delivering the same " +
      'spans, prebuilt, to the same sink: the floor of any tracer that exports them all):\n\n',
  );
  write(
    '| framework | route | tracewire × bare | target | als × bare | ship × bare | otel × bare | overhead tw / otel | p99 added ms | CPU µs/req added: als / ship / tw / otel |\n',
  );
  write('| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n');
  const frameworks = [...new Set(cells.map((c) => c.framework))];
  const routes = [...new Set(cells.map((c) => c.route))];
  const slowBare = [];
  for (const route of routes) {
    for (const framework of frameworks) {
      const tw = find(framework, route, 'tracewire');
      const als = find(framework, route, 'als');
      const ship = find(framework, route, 'ship');
      const otel = find(framework, route, 'otel');
      const bare = find(framework, route, 'bare');
      if (tw === undefined || bare === undefined) continue;
      const mark = (ok) => (ok ? '✅' : '❌');
      const usable = (c) => c !== undefined && !c.invalid && !bare.invalid;
      let target = '—';
      if (usable(tw) && route === 'users' && usable(als)) {
        target = `${mark(tw.ratio >= als.ratio - 0.05)} ≥ als − 0.05`;
      } else if (usable(tw) && route === 'chain') {
        target = `${mark(tw.ratio >= 0.9)} ≥ 0.90`;
      }
      let overhead = '—';
      if (usable(tw) && usable(otel)) {
        const share = (1 - tw.ratio) / (1 - otel.ratio);
        overhead = `${fixed(share, 2)} ${mark(share <= 0.25)}`;
      }
      // als does everything bare does and more; a bare server that still spent clearly more CPU per request was
      // slowed by something else on the machine, and every ratio to it in this row reads too high.
      if (usable(als) && bare.cpu > als.cpu * SLOW_BARE && bare.cpu - als.cpu > SLOW_BARE_MICROS) {
        slowBare.push(
          `${framework} ${ROUTE_NAMES[route]} (${fixed(bare.cpu, 0)} vs ${fixed(als.cpu, 0)} µs)`,
        );
      }
      const added = tw.p99 - bare.p99;
      write(
        `| ${framework} | ${ROUTE_NAMES[route]} | ${usable(tw) ? fixed(tw.ratio, 2) : 'invalid'} | ${target} | ` +
          `${usable(als) ? fixed(als.ratio, 2) : '—'} | ${usable(ship) ? fixed(ship.ratio, 2) : '—'} | ${usable(otel) ? fixed(otel.ratio, 2) : otel === undefined ? '—' : 'invalid'} | ` +
          `${overhead} | ${usable(tw) ? `${fixed(added, 2)} ${mark(added < 1)}` : '—'} | ` +
          `${[als, ship, tw, otel].map((c) => (usable(c) ? fixed(c.cpu - bare.cpu, 0) : '—')).join(' / ')} |\n`,
      );
    }
  }
  if (steal !== undefined) {
    write(
      `\nHypervisor steal while these cells ran: ${fixed(steal * 100, 1)}% of the machine's CPU time (/proc/stat): ` +
        'time the host gave other guests while this machine had work to run.\n',
    );
  }
  if (slowBare.length > 0) {
    write(
      `\nbare spent more than ${Math.round((SLOW_BARE - 1) * 100)}% (and ${SLOW_BARE_MICROS} µs) more CPU per request than als in: ${slowBare.join(', ')}. ` +
        'Its runs there were slowed by something else, so every ratio to bare in those rows reads too high.\n',
    );
  }
  return invalidRuns;
}
