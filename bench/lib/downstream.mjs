// The service /chain calls: `GET /<cell>/items/:id`. Counts per cell how many requests arrived and how many
// carried a traceparent continuing the load generator's trace (its trace ids start with BENCH_TRACE_PREFIX).
import http from 'node:http';

const PREFIX = process.env.BENCH_TRACE_PREFIX ?? 'be4c';
const counts = new Map();

function isHex(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

// W3C Trace Context §3.2: 00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>, ids not all zero.
function propagated(header) {
  if (typeof header !== 'string' || header.length !== 55) return false;
  const traceId = header.slice(3, 35);
  const parentId = header.slice(36, 52);
  return (
    header.startsWith('00-') &&
    isHex(traceId) &&
    isHex(parentId) &&
    parentId !== '0000000000000000' &&
    traceId.startsWith(PREFIX)
  );
}

const body = JSON.stringify({ sku: 'bench-item', price: 42, tags: ['a', 'b'] });

const server = http.createServer((req, res) => {
  const slash = req.url.indexOf('/items/');
  const cell = slash > 0 ? req.url.slice(1, slash) : 'default';
  let c = counts.get(cell);
  if (c === undefined) {
    c = { requests: 0, traceparent: 0, propagated: 0 };
    counts.set(cell, c);
  }
  c.requests++;
  const header = req.headers.traceparent;
  if (header !== undefined) c.traceparent++;
  if (propagated(header)) c.propagated++;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));
process.on('message', (message) => {
  if (message.cmd === 'counts') process.send({ id: message.id, counts: Object.fromEntries(counts) });
});
process.on('disconnect', () => process.exit(0));
