// The load generator, in its own process so it never shares an event loop with a server. Each request carries a
// fresh valid traceparent (sampled) whose trace id starts with BENCH_TRACE_PREFIX, so the downstream can tell a
// propagated trace from a new one.
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';

const PREFIX = process.env.BENCH_TRACE_PREFIX ?? 'be4c';
const POOL = 4096;
// Precomputed so the generator's own cost stays the same for every variant.
const traceparents = Array.from({ length: POOL }, () => {
  const traceId = PREFIX + randomBytes(14).toString('hex');
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
});

// autocannon's own histogram keeps whole milliseconds; sub-millisecond differences are the point here.
function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function run({ url, path, duration, amount, connections, rate }) {
  let n = 0;
  const latencies = [];
  return new Promise((resolve, reject) => {
    const tracker = autocannon(
      {
        url,
        connections,
        // autocannon rejects an explicit `duration: undefined`, and only ends a run on one of its sampling ticks
        // (every second by default): fractional durations are ended by the timer below, checked every 50 ms.
        sampleInt: 50,
        // A fixed rate (requests per second over all connections) instead of as fast as the server answers.
        ...(rate === undefined ? {} : { overallRate: rate }),
        ...(amount === undefined ? { duration: Math.ceil(duration) + 1 } : { amount }),
        requests: [
          {
            setupRequest(req) {
              const i = n++ % POOL;
              req.path = `${path}/${i + 1}`;
              req.headers = { traceparent: traceparents[i], accept: 'application/json' };
              return req;
            },
          },
        ],
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        const sorted = Float64Array.from(latencies).sort();
        resolve({ ...result, p50: percentile(sorted, 50), p99: percentile(sorted, 99) });
      },
    );
    if (amount === undefined) setTimeout(() => tracker.stop(), duration * 1000);
    tracker.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

process.on('message', async (message) => {
  try {
    const cpuBefore = process.cpuUsage();
    const r = await run(message);
    const cpu = process.cpuUsage(cpuBefore);
    process.send({
      id: message.id,
      requests: r.requests.total,
      rps: r.requests.total / r.duration,
      seconds: r.duration,
      p50: r.p50,
      p99: r.p99,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      // The generator's own CPU for the run: it shares the machine's cores with the server and the sink.
      cpuMicros: cpu.user + cpu.system,
    });
  } catch (error) {
    process.send({ id: message.id, error: String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
