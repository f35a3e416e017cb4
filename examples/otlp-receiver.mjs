// A small OTLP/HTTP JSON receiver: what the demo and the end-to-end tests collect spans with,
// so every span they look at really crossed a process boundary on the wire.
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

function attributeValue(value) {
  if (value === undefined || value === null) return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('boolValue' in value) return value.boolValue;
  if ('arrayValue' in value) return (value.arrayValue.values ?? []).map(attributeValue);
  return undefined;
}

function attributesOf(list = []) {
  return Object.fromEntries(list.map((kv) => [kv.key, attributeValue(kv.value)]));
}

/** Flattens an OTLP ExportTraceServiceRequest (JSON encoding) into one plain object per span. */
export function flattenOtlpJson(request) {
  const spans = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || undefined,
          name: span.name,
          kind: span.kind,
          service: resource['service.name'],
          startTimeUnixNano: BigInt(span.startTimeUnixNano),
          endTimeUnixNano: BigInt(span.endTimeUnixNano),
          attributes: attributesOf(span.attributes),
          events: span.events ?? [],
          links: span.links ?? [],
          statusCode: span.status?.code ?? 0,
        });
      }
    }
  }
  return spans;
}

/** Starts the receiver on 127.0.0.1 (a free port unless given). */
export function startOtlpReceiver({ port = 0 } = {}) {
  const spans = [];
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    if (!String(req.headers['content-type']).startsWith('application/json')) {
      res.writeHead(415, { 'content-type': 'application/json' }).end('{"message":"send http/json"}');
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        spans.push(...flattenOtlpJson(JSON.parse(body.toString('utf8'))));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"bad OTLP JSON"}');
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://127.0.0.1:${actual}`,
        spans,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
