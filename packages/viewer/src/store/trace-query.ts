/** Filters for the trace list. All are optional; a trace matches when it passes every filter given. */
export interface TraceQuery {
  /** Traces with at least one span from this service. */
  service?: string | undefined;
  /** Traces with at least one span of this name (from `service`, when that is given too). */
  name?: string | undefined;
  /** Traces lasting at least this long, first span start to last span end. */
  minDurationMs?: number | undefined;
  /** Traces with at least one span whose status is ERROR. */
  errorsOnly?: boolean | undefined;
  /** Traces starting at or after this time (epoch ms). */
  from?: number | undefined;
  /** Traces starting at or before this time (epoch ms). */
  to?: number | undefined;
  /** Page size, 1..1000; default 50. */
  limit?: number | undefined;
  /** Rows to skip (ignored with `cursor`). */
  offset?: number | undefined;
  /** `nextCursor` from the previous page. */
  cursor?: string | undefined;
}

export interface TraceSummary {
  traceId: string;
  /** Epoch microseconds of the earliest span. */
  startUs: number;
  durationUs: number;
  rootService: string;
  rootName: string;
  spanCount: number;
  errorCount: number;
  /** Span count per service, in order of first appearance. */
  services: Record<string, number>;
}

export interface TracePage {
  traces: TraceSummary[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface Dependency {
  parent: string;
  child: string;
  calls: number;
  errors: number;
}

export interface Operation {
  name: string;
  spanCount: number;
}

/** Cursor = base64url("<startUs>:<traceId>") of the last row shown; rows strictly older come next. */
export function encodeCursor(startUs: number, traceId: string): string {
  return Buffer.from(`${startUs}:${traceId}`).toString('base64url');
}

export function decodeCursor(cursor: string): { startUs: number; traceId: string } | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  const startUs = Number(text.slice(0, colon));
  const traceId = text.slice(colon + 1);
  if (colon < 1 || !Number.isSafeInteger(startUs) || !/^[0-9a-f]{32}$/.test(traceId)) return undefined;
  return { startUs, traceId };
}
