// OTLP/HTTP sink: accepts `POST /<cell>/v1/traces` (protobuf or JSON, optionally gzip) and counts spans and SERVER
// spans per cell, so each run can be checked against the requests it sent. Answers its parent over IPC.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';

const counts = new Map();
const SERVER = 2; // SpanKind SPAN_KIND_SERVER in opentelemetry/proto/trace/v1/trace.proto

function countFor(cell) {
  let c = counts.get(cell);
  if (c === undefined) {
    c = { spans: 0, server: 0, requests: 0, errors: 0 };
    counts.set(cell, c);
  }
  return c;
}

// Protobuf wire walk (https://protobuf.dev/programming-guides/encoding/): ExportTraceServiceRequest.resource_spans=1
// → ResourceSpans.scope_spans=2 → ScopeSpans.spans=2 → Span.kind=6 (varint). Everything else is skipped.
function varint(buf, pos) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos.i++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return value;
    shift += 7;
  }
}

function fields(buf, start, end, onField) {
  const pos = { i: start };
  while (pos.i < end) {
    const key = varint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) onField(field, wire, varint(buf, pos));
    else if (wire === 1) pos.i += 8;
    else if (wire === 5) pos.i += 4;
    else if (wire === 2) {
      const len = varint(buf, pos);
      onField(field, wire, pos.i, pos.i + len);
      pos.i += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

function countProto(buf, c) {
  fields(buf, 0, buf.length, (f, w, s, e) => {
    if (f !== 1 || w !== 2) return;
    fields(buf, s, e, (f2, w2, s2, e2) => {
      if (f2 !== 2 || w2 !== 2) return;
      fields(buf, s2, e2, (f3, w3, s3, e3) => {
        if (f3 !== 2 || w3 !== 2) return;
        c.spans++;
        fields(buf, s3, e3, (f4, w4, v) => {
          if (f4 === 6 && w4 === 0 && v === SERVER) c.server++;
        });
      });
    });
  });
}

function countJson(body, c) {
  for (const rs of JSON.parse(body).resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        c.spans++;
        if (span.kind === SERVER || span.kind === 'SPAN_KIND_SERVER') c.server++;
      }
    }
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const slash = req.url.indexOf('/v1/traces');
    const cell = slash > 0 ? req.url.slice(1, slash) : 'default';
    const c = countFor(cell);
    c.requests++;
    const isJson = (req.headers['content-type'] ?? '').includes('json');
    try {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (isJson) countJson(body.toString('utf8'), c);
      else countProto(body, c);
      res.writeHead(200, { 'content-type': isJson ? 'application/json' : 'application/x-protobuf' });
      res.end(isJson ? '{}' : '');
    } catch (error) {
      c.errors++;
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(error));
    }
  });
});
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));
process.on('message', (message) => {
  if (message.cmd === 'counts') {
    const cpu = process.cpuUsage();
    process.send({ id: message.id, counts: Object.fromEntries(counts), cpuMicros: cpu.user + cpu.system });
  }
});
process.on('disconnect', () => process.exit(0));
