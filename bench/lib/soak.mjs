// Memory soak: tracewire at full load with its OTLP endpoint down. The export queue is bounded, so RSS must level
// off while the drop counters climb; printed at the start, the middle and the end.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild } from './children.mjs';

const serverFile = join(fileURLToPath(new URL('.', import.meta.url)), 'server.mjs');

async function stats(port) {
  const response = await fetch(`http://127.0.0.1:${port}/stats`);
  return response.json();
}

const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

export async function runSoak(
  runtime,
  { loader, requests, connections, freePort, write = (s) => process.stdout.write(s) },
) {
  const deadPort = await freePort();
  const server = await startChild(serverFile, {
    args: ['express', 'tracewire'],
    execPath: runtime.execPath,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadPort}`,
      BENCH_DOWNSTREAM: 'http://127.0.0.1:1',
    },
    captureStderr: true,
  });
  const port = server.info.port;
  try {
    write(
      `\n### Memory soak (Node ${runtime.version.replace(/^v/, '')}): tracewire + Express, GET /users/:id, `,
    );
    write(`${requests} requests, ${connections} connections, OTLP endpoint down\n\n`);
    write(
      '| point | requests sent | RSS | spans ended | dropped (queue full) | dropped (export failed) | export failures |\n',
    );
    write('| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n');
    const row = (point, sent, s) =>
      write(
        `| ${point} | ${sent} | ${mb(s.rss)} | ${s.tracer.spansEnded} | ${s.tracer.droppedQueueFull} | ` +
          `${s.tracer.droppedExportFailed} | ${s.tracer.exportFailures} |\n`,
      );
    const start = await stats(port);
    row('start', 0, start);
    const half = Math.floor(requests / 2);
    const url = `http://127.0.0.1:${port}`;
    const load = async (amount) => {
      const result = await loader.ask({ cmd: 'run', url, path: '/users', amount, connections });
      if (result.error) throw new Error(`soak load failed: ${result.error}`);
      return result;
    };
    const first = await load(half);
    const middle = await stats(port);
    row('middle', first.requests, middle);
    const second = await load(requests - half);
    const end = await stats(port);
    row('end', first.requests + second.requests, end);
    const growth = (end.rss - middle.rss) / middle.rss;
    write(
      `\nRSS from middle to end: ${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}% ` +
        `(${growth < 0.1 ? 'flat: under 10%' : 'grew 10% or more'}); ${end.tracer.droppedQueueFull + end.tracer.droppedExportFailed} spans dropped and counted. ` +
        `Load: ${Math.round(first.rps)} / ${Math.round(second.rps)} req/s.\n`,
    );
    const said = server.stderr().trim();
    if (said !== '') {
      write('\nThe server wrote to stderr (the warning a user sees when the collector is down):\n\n');
      write(`${said.replace(/^/gm, '> ')}\n`);
    }
  } finally {
    server.stop();
  }
}
