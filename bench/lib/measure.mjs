// One measured run of one server: load it, flush what it traced, and read what the sink and the downstream saw.
// Shared by run.mjs (every cell) and compare.mjs (two checkouts side by side), so both judge a run alike.

export const CONNECTIONS = 10;
/** Variants that propagate the load's trace to the downstream. */
export const TRACED = new Set(['tracewire', 'otel']);
/** Variants whose spans reach the sink: the tracers, and `ship`, which sends prebuilt spans and propagates nothing. */
export const EXPORTING = new Set([...TRACED, 'ship']);

const sumDelta = (after, before, key) => (after?.[key] ?? 0) - (before?.[key] ?? 0);

/**
 * `cell` is `{ server, key, route, variant }`; `infra` is `{ sink, downstream, loader }`. `rate` (req/s over all
 * connections) loads at a fixed rate instead of as fast as the server answers. The run carries `problems`.
 */
export async function measureRun(cell, { sink, downstream, loader }, { seconds, rate }) {
  const [sinkBefore, downBefore, usageBefore] = await Promise.all([
    sink.ask({ cmd: 'counts' }),
    downstream.ask({ cmd: 'counts' }),
    cell.server.ask({ cmd: 'usage' }),
  ]);
  const result = await loader.ask({
    cmd: 'run',
    url: `http://127.0.0.1:${cell.server.info.port}`,
    path: `/${cell.route}`,
    duration: seconds,
    connections: CONNECTIONS,
    rate,
  });
  if (result.error) throw new Error(result.error);
  if (EXPORTING.has(cell.variant)) {
    const flushed = await cell.server.ask({ cmd: 'flush' });
    if (!flushed.ok) result.flushError = flushed.error;
  }
  const [sinkFlushed, downAfter, usage] = await Promise.all([
    sink.ask({ cmd: 'counts' }),
    downstream.ask({ cmd: 'counts' }),
    cell.server.ask({ cmd: 'usage' }),
  ]);
  const s0 = sinkBefore.counts[cell.key];
  const sinkAfter = EXPORTING.has(cell.variant)
    ? await sinkCountsLanded(sink, cell.key, s0, result.requests - slackFor(result.requests), sinkFlushed)
    : sinkFlushed;
  const s1 = sinkAfter.counts[cell.key];
  const d0 = downBefore.counts[cell.key];
  const d1 = downAfter.counts[cell.key];
  const run = {
    ...result,
    rss: usage.rss,
    // Server CPU time per request, exports flushed included: unlike req/s, barely moved by other load.
    cpuPerRequest: (usage.cpuMicros - usageBefore.cpuMicros) / Math.max(1, result.requests),
    // What the same requests cost the other processes on the machine's cores: receiving the spans, loading.
    sinkCpuPerRequest: (sinkAfter.cpuMicros - sinkBefore.cpuMicros) / Math.max(1, result.requests),
    loadCpuPerRequest: result.cpuMicros / Math.max(1, result.requests),
    serverSpans: sumDelta(s1, s0, 'server'),
    spans: sumDelta(s1, s0, 'spans'),
    downstream: sumDelta(d1, d0, 'requests'),
    propagated: sumDelta(d1, d0, 'propagated'),
  };
  run.problems = validate(cell, run);
  return run;
}

/** Requests still in flight when the load stopped finish later: 1% plus one per connection. */
const slackFor = (requests) => Math.ceil(requests * 0.01) + CONNECTIONS;

/** The longest wait for spans still on their way to the sink after a flush. */
const LANDING_MILLIS = 3000;

/**
 * The sink's counts (`counts`, read after a flush, then read again) once `key` has `wanted` server spans more than
 * `before`, or after `LANDING_MILLIS`; for timed runs and the counting scripts alike. OpenTelemetry's `forceFlush`
 * exports what is queued but does not wait for an export its timer started just before (its BatchSpanProcessor
 * `_flushAll`), so under load the count could be read while those spans were still on the wire (likely the smoke
 * test's rare "sink got 0 server spans" for OpenTelemetry under the whole suite's load). tracewire's flush awaits
 * its exports, so its counts are read at once.
 */
export async function sinkCountsLanded(sink, key, before, wanted, counts) {
  for (let waited = 0; waited < LANDING_MILLIS; waited += 50) {
    if (sumDelta(counts.counts[key], before, 'server') >= wanted) return counts;
    await new Promise((resolve) => setTimeout(resolve, 50));
    counts = await sink.ask({ cmd: 'counts' });
  }
  return counts;
}

// A run counts only if every request succeeded and, for traced variants, the sink got one SERVER span per request
// and the downstream saw the load's trace continue. Requests still in flight when the load stopped finish later,
// hence the allowance of one per connection on top of 1%.
function validate(cell, run) {
  const problems = [];
  if (run.errors > 0) problems.push(`${run.errors} errors`);
  if (run.non2xx > 0) problems.push(`${run.non2xx} non-2xx`);
  if (run.flushError) problems.push(`flush failed: ${run.flushError}`);
  const slack = slackFor(run.requests);
  const near = (n) => Math.abs(n - run.requests) <= slack;
  if (cell.route === 'chain' && !near(run.downstream)) {
    problems.push(`downstream got ${run.downstream} calls for ${run.requests} requests`);
  }
  if (EXPORTING.has(cell.variant)) {
    if (!near(run.serverSpans))
      problems.push(`sink got ${run.serverSpans} server spans for ${run.requests} requests`);
    if (cell.route === 'chain' && TRACED.has(cell.variant) && !near(run.propagated)) {
      problems.push(`downstream saw the trace continue on ${run.propagated} of ${run.requests} calls`);
    }
  } else if (run.serverSpans !== 0) {
    problems.push(`untraced variant exported ${run.serverSpans} spans`);
  }
  return problems;
}
