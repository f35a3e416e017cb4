/** An attribute value as stored and served: OTLP AnyValue mapped to JSON (int64 beyond 2^53 as a decimal string). */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue };

export type AttributeMap = Record<string, AttributeValue>;

export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** trace.proto SpanKind numbering (0 = UNSPECIFIED). */
export const SPAN_KINDS: readonly SpanKindName[] = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
];

export interface SpanEventRecord {
  /** Epoch microseconds. */
  timeUs: number;
  name: string;
  attributes: AttributeMap;
}

export interface SpanLinkRecord {
  traceId: string;
  spanId: string;
  traceState?: string | undefined;
  attributes: AttributeMap;
}

/** One span in the viewer's own model, whichever protocol it arrived by. Ids are lowercase hex. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string | undefined;
  /** The resource's `service.name` (OTel resource semantic conventions), or `unknown_service`. */
  service: string;
  name: string;
  kind: SpanKindName;
  /** Epoch microseconds. */
  startUs: number;
  durationUs: number;
  /** trace.proto Status.StatusCode: 0 unset, 1 ok, 2 error. */
  statusCode: 0 | 1 | 2;
  statusMessage?: string | undefined;
  traceState?: string | undefined;
  attributes: AttributeMap;
  resource: AttributeMap;
  scope: { name: string; version?: string | undefined };
  events: SpanEventRecord[];
  links: SpanLinkRecord[];
}

/** What a receiver made of one request: the spans to store and the ones it refused, with why. */
export interface DecodedSpans {
  spans: SpanRecord[];
  rejected: number;
  rejectReason?: string | undefined;
}

/**
 * `map[key] = value` for a key that came off the wire: `__proto__` becomes an ordinary entry instead of setting the
 * map's prototype (which dropped it, or, holding a kvlist, let a resource fake `service.name` through the chain).
 */
export function setEntry<V>(map: Record<string, V>, key: string, value: V): void {
  if (key === '__proto__') {
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  } else map[key] = value;
}
