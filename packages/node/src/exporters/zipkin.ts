import { isIPv4, isIPv6 } from 'node:net';
import type {
  Attributes,
  AttributeValue,
  ExportResult,
  ReadableSpan,
  SpanEvent,
  SpanExporter,
} from '../span-data.js';
import { type HttpSenderOptions, HttpSpanSender, OVERRIDDEN_EXPORT } from './http-span-sender.js';

/** A span in Zipkin's v2 JSON model (zipkin2-api.yaml `Span`). */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  /** Epoch microseconds. */
  timestamp: number;
  /** Microseconds, at least 1. */
  duration: number;
  localEndpoint: ZipkinEndpoint;
  remoteEndpoint?: ZipkinEndpoint;
  annotations?: ZipkinAnnotation[];
  tags: Record<string, string>;
}

export interface ZipkinAnnotation {
  timestamp: number;
  value: string;
}

export interface ZipkinEndpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

// OTel spec, trace/sdk_exporters/zipkin.md §SpanKind: INTERNAL has no Zipkin kind and is omitted.
const KINDS = [undefined, 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;

// §Remote endpoint: attributes naming the peer, by rank; the first present wins.
const REMOTE_NAME_ATTRIBUTES = [
  'peer.service',
  'server.address',
  'net.peer.name',
  'network.peer.address',
  'server.socket.domain',
  'server.socket.address',
  'net.sock.peer.name',
  'net.sock.peer.addr',
  'peer.hostname',
  'peer.address',
  'db.name',
];
const REMOTE_PORT_ATTRIBUTES = ['server.port', 'network.peer.port', 'net.peer.port', 'server.socket.port'];

/**
 * OpenTelemetry → Zipkin v2 (OTel spec trace/sdk_exporters/zipkin.md). `shared` is never set: it marks a server span
 * that reuses its client's span id (B3's one-span-per-RPC join), and OpenTelemetry always gives the server its own id.
 */
export function toZipkinSpans(spans: readonly ReadableSpan[]): ZipkinSpan[] {
  return spans.map(toZipkinSpan);
}

function toZipkinSpan(span: ReadableSpan): ZipkinSpan {
  const context = span.spanContext();
  const timestamp = toMicros(span.startTime);
  const out: ZipkinSpan = {
    traceId: context.traceId,
    id: context.spanId,
    name: span.name,
    timestamp,
    // §Unit of time: whole microseconds; Zipkin treats 0 as "unknown", so a finished span lasts at least 1 µs.
    duration: Math.max(1, toMicros(span.endTime) - timestamp),
    localEndpoint: { serviceName: serviceName(span) },
    tags: toTags(span),
  };
  if (span.parentSpanId !== undefined) out.parentId = span.parentSpanId;
  const kind = KINDS[span.kind];
  if (kind !== undefined) out.kind = kind;
  if (kind === 'CLIENT' || kind === 'PRODUCER') {
    const remote = remoteEndpoint(span.attributes);
    if (remote !== undefined) out.remoteEndpoint = remote;
  }
  if (span.events.length > 0) out.annotations = span.events.map(toAnnotation);
  return out;
}

function toAnnotation(event: SpanEvent): ZipkinAnnotation {
  // Generic non-OTLP mapping: an event's dropped attributes are reported with it, as a key of its own.
  const dropped = event.droppedAttributesCount ?? 0;
  const attributes =
    dropped > 0 ? { ...event.attributes, 'otel.dropped_attributes_count': dropped } : event.attributes;
  return {
    timestamp: toMicros(event.time),
    // §Events: attributes ride along in the value as `"name": {json}`.
    value:
      attributes && Object.keys(attributes).length > 0
        ? `${JSON.stringify(event.name)}: ${JSON.stringify(attributes, nonFiniteAsString)}`
        : event.name,
  };
}

/**
 * "AnyValue representation for non-OTLP protocols": NaN and the infinities inside arrays and maps are the strings
 * "NaN", "Infinity" and "-Infinity"; JSON.stringify alone writes them as null, a value of their own.
 */
function nonFiniteAsString(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

function toMicros(ms: number): number {
  return Math.round(ms * 1000);
}

function serviceName(span: ReadableSpan): string {
  const name = span.resource.attributes['service.name'];
  return typeof name === 'string' && name !== '' ? name : 'unknown_service:node';
}

function toTags(span: ReadableSpan): Record<string, string> {
  // Zipkin has no resource: its attributes travel as tags (the spec names `service.namespace`; OpenTelemetry's own
  // Zipkin exporters send them all), except `service.name`, which is the local endpoint. The span's own win.
  const tags: Record<string, string> = { ...resourceTags(span.resource) };
  for (const key of Object.keys(span.attributes)) {
    const value = span.attributes[key];
    if (value !== undefined && value !== null) tags[key] = tagValue(value);
  }
  // §Status: code as OK/ERROR (never UNSET), `error` carries the description and only for ERROR. Tags of those names
  // the app set itself would contradict the span's status (Zipkin marks any span with an `error` tag failed).
  delete tags['otel.status_code'];
  delete tags['error'];
  if (span.status.code === 1) tags['otel.status_code'] = 'OK';
  if (span.status.code === 2) {
    tags['otel.status_code'] = 'ERROR';
    tags['error'] = span.status.message ?? '';
  }
  // Generic non-OTLP mapping (common/mapping-to-non-otlp.md): scope and dropped counts as tags, only when set.
  tags['otel.scope.name'] = span.scope.name;
  if (span.scope.version) tags['otel.scope.version'] = span.scope.version;
  if (span.droppedAttributesCount > 0)
    tags['otel.dropped_attributes_count'] = String(span.droppedAttributesCount);
  if (span.droppedEventsCount > 0) tags['otel.dropped_events_count'] = String(span.droppedEventsCount);
  if (span.droppedLinksCount > 0) tags['otel.dropped_links_count'] = String(span.droppedLinksCount);
  return tags;
}

const resourceTagCache = new WeakMap<ReadableSpan['resource'], Record<string, string>>();

/** One resource serves every span of a tracer: its tags are made once. */
function resourceTags(resource: ReadableSpan['resource']): Record<string, string> {
  let tags = resourceTagCache.get(resource);
  if (tags === undefined) {
    tags = {};
    for (const key of Object.keys(resource.attributes)) {
      const value = resource.attributes[key];
      if (key !== 'service.name' && value !== undefined && value !== null) tags[key] = tagValue(value);
    }
    resourceTagCache.set(resource, tags);
  }
  return tags;
}

// §Attribute: primitives as strings (booleans lower case), arrays as a JSON list.
function tagValue(value: AttributeValue): string {
  return Array.isArray(value) ? JSON.stringify(value, nonFiniteAsString) : String(value);
}

function remoteEndpoint(attributes: Attributes): ZipkinEndpoint | undefined {
  let name: string | undefined;
  for (const key of REMOTE_NAME_ATTRIBUTES) {
    const value = attributes[key];
    if (typeof value === 'string' && value !== '') {
      name = value;
      break;
    }
  }
  if (name === undefined) return undefined;
  const endpoint: ZipkinEndpoint = {};
  const host = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  if (isIPv4(host)) endpoint.ipv4 = host;
  else if (isIPv6(host)) endpoint.ipv6 = host;
  else endpoint.serviceName = name.toLowerCase();
  for (const key of REMOTE_PORT_ATTRIBUTES) {
    const port = Number(attributes[key]);
    if (Number.isInteger(port) && port > 0 && port < 65536) {
      endpoint.port = port;
      break;
    }
  }
  return endpoint;
}

export interface ZipkinExporterOptions extends HttpSenderOptions {
  /** Default `http://localhost:9411/api/v2/spans`. */
  url?: string | undefined;
}

/** POSTs Zipkin v2 JSON to a Zipkin server's span endpoint. */
export class ZipkinExporter implements SpanExporter {
  readonly url: URL;
  private readonly sender: HttpSpanSender;

  constructor(options: ZipkinExporterOptions = {}) {
    this.sender = new HttpSpanSender('Zipkin exporter', 'http://localhost:9411/api/v2/spans', options);
    this.url = this.sender.url;
  }

  export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    return this.sender.track(async () => {
      const body = new TextEncoder().encode(JSON.stringify(toZipkinSpans(spans)));
      const delivery = await this.sender.post(body, 'application/json', 'none');
      return delivery.ok ? { code: 0 } : delivery.result;
    });
  }

  exportSync(spans: readonly ReadableSpan[], timeoutMillis: number): ExportResult {
    // A subclass that overrides `export` (to filter or redact) must see the spans at the exit too.
    if (this.export !== ZipkinExporter.prototype.export) return OVERRIDDEN_EXPORT;
    const body = new TextEncoder().encode(JSON.stringify(toZipkinSpans(spans)));
    return this.sender.postSync(body, 'application/json', 'none', timeoutMillis);
  }

  forceFlush(): Promise<void> {
    return this.sender.flush();
  }

  forceFlushSync(timeoutMillis: number): void {
    this.sender.postUnfinishedSync(timeoutMillis);
  }

  beginShutdown(): void {
    this.sender.beginShutdown();
  }

  shutdown(): Promise<void> {
    return this.sender.shutdown();
  }
}
