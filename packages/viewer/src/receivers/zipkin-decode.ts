import {
  type AttributeMap,
  type DecodedSpans,
  type SpanKindName,
  type SpanRecord,
  setEntry,
} from '../span-record.js';
import { isValidHexId } from './hex-ids.js';

/** The body is not a valid Zipkin v2 span list; like Zipkin's own collector, the whole request is refused (400). */
export class ZipkinFormatError extends Error {
  override name = 'ZipkinFormatError';
}

type Json = Record<string, unknown>;

const KINDS: Record<string, SpanKindName> = {
  CLIENT: 'client',
  SERVER: 'server',
  PRODUCER: 'producer',
  CONSUMER: 'consumer',
};

/**
 * Zipkin v2 JSON (zipkin2-api.yaml `ListOfSpans`) → span records, following the OTel spec's Zipkin mapping in
 * reverse (trace/sdk_exporters/zipkin.md): the `error` tag (or `otel.status_code`) is the status, annotations are
 * events, localEndpoint.serviceName is `service.name`, remoteEndpoint becomes `peer.service`/`network.peer.*`.
 * `receivedUs`: when the request arrived (microseconds since the epoch), the start of a span that has no time.
 */
export function decodeZipkinJson(text: string, receivedUs = Date.now() * 1000): DecodedSpans {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ZipkinFormatError(`malformed JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ZipkinFormatError('body must be a JSON array of spans');
  const spans = parsed.map((value, index) => toRecord(value, index, receivedUs));
  reparentUnderSharedServers(parsed as Json[], spans);
  return { spans, rejected: 0 };
}

/**
 * A B3 `shared` server span is stored under its id's complement (toRecord); the spans its service made under it
 * (Brave and zipkin-js give them the shared id as parentId) follow it there, rather than hang under the caller's
 * client span with the same id. Done within one report: a child reported apart from its shared server stays under
 * the client.
 */
function reparentUnderSharedServers(raw: readonly Json[], spans: SpanRecord[]): void {
  let shared: Map<string, SpanRecord> | undefined;
  for (const [i, span] of spans.entries()) {
    if (raw[i]?.['shared'] !== true || span.parentSpanId === undefined) continue;
    shared ??= new Map();
    // Keyed by trace, the id both sides share (the server's parentSpanId now) and the server's service.
    shared.set(`${span.traceId}/${span.parentSpanId}/${span.service}`, span);
  }
  if (shared === undefined) return;
  for (const [i, span] of spans.entries()) {
    if (raw[i]?.['shared'] === true || span.parentSpanId === undefined) continue;
    const server = shared.get(`${span.traceId}/${span.parentSpanId}/${span.service}`);
    if (server !== undefined) span.parentSpanId = server.spanId;
  }
}

function toRecord(value: unknown, index: number, receivedUs: number): SpanRecord {
  if (typeof value !== 'object' || value === null)
    throw new ZipkinFormatError(`span ${index} is not an object`);
  const span = value as Json;
  const traceId = hexField(span['traceId'], `span ${index} traceId`, [16, 32]).padStart(32, '0');
  let spanId = hexField(span['id'], `span ${index} id`, [16]);
  let parentId =
    span['parentId'] === undefined ? undefined : hexField(span['parentId'], `span ${index} parentId`, [16]);
  // B3's one-span-per-RPC model: a `shared` server span reuses its client's id (zipkin2-api.yaml `shared`). Storing
  // it under that id would overwrite the client, so it gets the id's complement and the client as its parent.
  if (span['shared'] === true) {
    parentId = spanId;
    spanId = complementHex(spanId);
  }
  const tags = stringMap(span['tags'], `span ${index} tags`);
  const local = endpoint(span['localEndpoint'], `span ${index} localEndpoint`);
  const remote = endpoint(span['remoteEndpoint'], `span ${index} remoteEndpoint`);
  const attributes: AttributeMap = { ...tags };
  delete attributes['error'];
  delete attributes['otel.status_code'];
  delete attributes['otel.status_description'];
  if (typeof remote['serviceName'] === 'string') attributes['peer.service'] ??= remote['serviceName'];
  const remoteAddress = remote['ipv4'] ?? remote['ipv6'];
  if (typeof remoteAddress === 'string') attributes['network.peer.address'] ??= remoteAddress;
  if (typeof remote['port'] === 'number') attributes['network.peer.port'] ??= remote['port'];
  const isError = tags['error'] !== undefined || tags['otel.status_code'] === 'ERROR';
  const statusMessage = tags['otel.status_description'] ?? (tags['error'] || undefined);
  const service =
    typeof local['serviceName'] === 'string' && local['serviceName']
      ? local['serviceName']
      : 'unknown_service';
  const kind = typeof span['kind'] === 'string' ? KINDS[span['kind']] : undefined;
  const events = annotations(span['annotations'], index);
  return {
    traceId,
    spanId,
    parentSpanId: parentId,
    service,
    name: typeof span['name'] === 'string' ? span['name'] : '',
    kind: kind ?? 'internal',
    ...spanTimes(span, index, events, receivedUs),
    statusCode: isError ? 2 : tags['otel.status_code'] === 'OK' ? 1 : 0,
    statusMessage: isError ? statusMessage : undefined,
    attributes,
    resource: { 'service.name': service },
    scope: { name: '' },
    events,
    links: [],
  };
}

function hexField(value: unknown, what: string, lengths: number[]): string {
  if (typeof value !== 'string' || !lengths.some((length) => isValidHexId(value, length))) {
    throw new ZipkinFormatError(`${what} must be ${lengths.join(' or ')} hex characters, not all zero`);
  }
  return value.toLowerCase();
}

/**
 * zipkin2-api.yaml lets `timestamp` and `duration` be absent (a late or incomplete report). Such a span starts at its
 * first annotation, as Zipkin derives it, else when it was received: at 0 it made its trace start in 1970, last in
 * every list and outside every time filter.
 */
function spanTimes(
  span: Json,
  index: number,
  events: SpanRecord['events'],
  receivedUs: number,
): { startUs: number; durationUs: number } {
  const durationUs = micros(span['duration'], `span ${index} duration`);
  if (span['timestamp'] !== undefined)
    return { startUs: micros(span['timestamp'], `span ${index} timestamp`), durationUs };
  if (events.length === 0) return { startUs: receivedUs, durationUs };
  let first = events[0]!.timeUs;
  let last = first;
  for (const event of events) {
    if (event.timeUs < first) first = event.timeUs;
    if (event.timeUs > last) last = event.timeUs;
  }
  return { startUs: first, durationUs: durationUs || last - first };
}

function micros(value: unknown, what: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ZipkinFormatError(`${what} must be a non-negative integer (microseconds)`);
  }
  return value;
}

function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ZipkinFormatError(`${what} must be an object of strings`);
  }
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw new ZipkinFormatError(`${what}.${key} must be a string`);
    setEntry(out, key, item);
  }
  return out;
}

function endpoint(value: unknown, what: string): Json {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ZipkinFormatError(`${what} must be an object`);
  return value as Json;
}

function annotations(value: unknown, index: number): SpanRecord['events'] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ZipkinFormatError(`span ${index} annotations must be an array`);
  return value.map((item, i) => {
    const annotation = (typeof item === 'object' && item !== null ? item : {}) as Json;
    if (typeof annotation['value'] !== 'string') {
      throw new ZipkinFormatError(`span ${index} annotation ${i} value must be a string`);
    }
    return {
      timeUs: micros(annotation['timestamp'], `span ${index} annotation ${i} timestamp`),
      ...eventFromAnnotation(annotation['value']),
    };
  });
}

/**
 * OTel spec zipkin.md §Events: an event is written as `"<name>": <attributes as JSON>`. The SDKs space it as they
 * like (Java `"name":{…}`, JS `"name": {…}`), and Python writes a whole object, `{"name": {…}}`.
 */
function eventFromAnnotation(value: string): { name: string; attributes: AttributeMap } {
  const first = value.charCodeAt(0);
  if (first === 34 /* " */ || first === 123 /* { */) {
    try {
      const parsed = JSON.parse(first === 34 ? `{${value}}` : value) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        const keys = Object.keys(parsed);
        const attributes = keys.length === 1 ? (parsed as Json)[keys[0]!] : undefined;
        if (typeof attributes === 'object' && attributes !== null && !Array.isArray(attributes)) {
          return { name: keys[0]!, attributes: attributes as AttributeMap };
        }
      }
    } catch {
      // Not that shape after all: keep the annotation text as the event name.
    }
  }
  return { name: value, attributes: {} };
}

function complementHex(id: string): string {
  let out = '';
  for (let i = 0; i < id.length; i++) out += (15 - Number.parseInt(id[i]!, 16)).toString(16);
  return out;
}
