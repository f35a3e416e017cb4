// The `ship` variant's exporter: what delivering spans costs with no tracer at all. Spans are OTLP protobuf bytes
// built once at start-up, shaped like tracewire's (the same attributes; `network.peer.*` added 2026-11-26 12:10 UTC,
// as tracewire's server spans carry them, and to the client span 2026-11-27 with `network.protocol.version`, as its client spans then did); a request only counts the spans it would have ended, and every 512 of
// them go to the sink in one keep-alive POST, as a batching exporter would send them. Encoded here by hand (OTLP
// trace.proto field numbers) so the variant depends on no tracer.
import http from 'node:http';

const BATCH = 512;
const BLOCK = 64;
const SERVER = 2; // SPAN_KIND_SERVER on the wire
const CLIENT = 3; // SPAN_KIND_CLIENT

function varint(value) {
  const bytes = [];
  while (value > 0x7f) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

const tag = (field, wireType) => varint(field * 8 + wireType);
const message = (field, ...parts) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([tag(field, 2), varint(body.length), body]);
};
const string = (field, text) => message(field, Buffer.from(text, 'utf8'));
const bytes = (field, hex) => message(field, Buffer.from(hex, 'hex'));
const number = (field, value) => Buffer.concat([tag(field, 0), varint(value)]);
const fixed64 = (field, value) => {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(value);
  return Buffer.concat([tag(field, 1), out]);
};
// KeyValue { key = 1; value = 2 (AnyValue { string_value = 1; int_value = 3 }) }
const attribute = (key, value) =>
  message(
    9,
    string(1, key),
    typeof value === 'number' ? message(2, number(3, value)) : message(2, string(1, value)),
  );

const start = BigInt(Date.now()) * 1_000_000n;

function span(kind, name, attributes) {
  return message(
    2,
    bytes(1, '4bf92f3577b34da6a3ce929d0e0e4736'),
    bytes(2, '00f067aa0ba902b7'),
    bytes(4, 'b7ad6b7169203331'),
    string(5, name),
    number(6, kind),
    fixed64(7, start),
    fixed64(8, start + 180_000n),
    ...Object.entries(attributes).map(([key, value]) => attribute(key, value)),
  );
}

const SERVER_SPAN = span(SERVER, 'GET /users/:id', {
  'http.request.method': 'GET',
  'url.path': '/users/1234',
  'url.scheme': 'http',
  'server.address': '127.0.0.1',
  'server.port': 40123,
  'client.address': '127.0.0.1',
  'network.peer.address': '127.0.0.1',
  'network.peer.port': 51234,
  'network.protocol.version': '1.1',
  'user_agent.original': 'autocannon',
  'http.route': '/users/:id',
  'http.response.status_code': 200,
});
const CLIENT_SPAN = span(CLIENT, 'GET', {
  'http.request.method': 'GET',
  'url.full': 'http://127.0.0.1:40124/items/1234',
  'server.address': '127.0.0.1',
  'server.port': 40124,
  'http.response.status_code': 200,
  'network.peer.address': '127.0.0.1',
  'network.peer.port': 40124,
  'network.protocol.version': '1.1',
});

/** ExportTraceServiceRequest { resource_spans = 1 { resource = 1, scope_spans = 2 { scope = 1, spans = 2 } } }. */
function request(serviceName, spans) {
  const resource = message(1, message(1, string(1, 'service.name'), message(2, string(1, serviceName))));
  const scope = message(1, string(1, 'bench-ship'), string(2, '1.0.0'));
  return message(1, resource, message(2, scope, ...spans));
}

/**
 * `serverSpan()` / `clientSpan()` per span a tracer would end; `flush()` sends what is pending and waits for the
 * sink's answer. Protobuf messages concatenated merge, so a body is built from prebuilt blocks without encoding.
 */
export function createShipper(endpoint, serviceName) {
  const url = new URL(`${endpoint}/v1/traces`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const blocks = {
    server: request(serviceName, Array(BLOCK).fill(SERVER_SPAN)),
    client: request(serviceName, Array(BLOCK).fill(CLIENT_SPAN)),
  };
  const singles = {
    server: request(serviceName, [SERVER_SPAN]),
    client: request(serviceName, [CLIENT_SPAN]),
  };
  const pending = { server: 0, client: 0 };
  const inFlight = new Set();
  let scheduled = false;

  function take(kind, all) {
    const parts = [];
    for (; pending[kind] >= BLOCK; pending[kind] -= BLOCK) parts.push(blocks[kind]);
    if (all) for (; pending[kind] > 0; pending[kind]--) parts.push(singles[kind]);
    return parts;
  }

  function post(all) {
    const body = Buffer.concat([...take('server', all), ...take('client', all)]);
    if (body.length === 0) return;
    const sent = new Promise((resolve) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', resolve);
      req.end(body);
    });
    inFlight.add(sent);
    sent.then(() => inFlight.delete(sent));
  }

  function ended(kind) {
    pending[kind]++;
    if (scheduled || pending.server + pending.client < BATCH) return;
    // Off the request's own turn, as a batching exporter sends.
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      post(false);
    });
  }

  return {
    serverSpan: () => ended('server'),
    clientSpan: () => ended('client'),
    flush: () => {
      post(true);
      return Promise.all(inFlight);
    },
  };
}
