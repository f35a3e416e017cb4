import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { SpanRecord } from '../span-record.js';
import { REFRESH_TRACE, SCHEMA } from './schema.js';
import {
  type Dependency,
  decodeCursor,
  encodeCursor,
  type Operation,
  type TracePage,
  type TraceQuery,
  type TraceSummary,
} from './trace-query.js';

interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  service: string;
  name: string;
  kind: SpanRecord['kind'];
  start_us: number;
  duration_us: number;
  status_code: 0 | 1 | 2;
  status_message: string | null;
  trace_state: string | null;
  attributes: string;
  resource: string;
  scope: string;
  events: string;
  links: string;
}

interface TraceRow {
  trace_id: string;
  start_us: number;
  duration_us: number;
  root_service: string;
  root_name: string;
  span_count: number;
  error_count: number;
  services: string;
}

export interface TraceDetail {
  traceId: string;
  startUs: number;
  durationUs: number;
  /** Ordered by start time. */
  spans: SpanRecord[];
}

/** Spans in SQLite (better-sqlite3; synchronous, so each call is one short transaction on the event loop). */
export class TraceStore {
  readonly db: Database.Database;
  private readonly insertSpan: Database.Statement;
  private readonly refreshTrace: Database.Statement;
  private readonly deleteTraceSpans: Database.Statement;
  private readonly deleteTraceRow: Database.Statement;

  /** @param path a file (its folder is created) or `:memory:` */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    // WAL lets the API read while a receiver writes; NORMAL sync is durable enough for a development store.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.insertSpan = this.db.prepare(`INSERT OR REPLACE INTO spans
      (trace_id, span_id, parent_span_id, service, name, kind, start_us, duration_us, status_code, status_message,
       error, trace_state, attributes, resource, scope, events, links)
      VALUES (@traceId, @spanId, @parentSpanId, @service, @name, @kind, @startUs, @durationUs, @statusCode,
       @statusMessage, @error, @traceState, @attributes, @resource, @scope, @events, @links)`);
    this.refreshTrace = this.db.prepare(REFRESH_TRACE);
    this.deleteTraceSpans = this.db.prepare('DELETE FROM spans WHERE trace_id = ?');
    this.deleteTraceRow = this.db.prepare('DELETE FROM traces WHERE trace_id = ?');
  }

  /** Stores spans (a span sent twice replaces the first copy) and updates their traces' summaries. */
  insert(spans: readonly SpanRecord[]): void {
    if (spans.length === 0) return;
    this.db.transaction(() => {
      const traceIds = new Set<string>();
      for (const span of spans) {
        traceIds.add(span.traceId);
        this.insertSpan.run({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? null,
          service: span.service,
          name: span.name,
          kind: span.kind,
          startUs: span.startUs,
          durationUs: span.durationUs,
          statusCode: span.statusCode,
          statusMessage: span.statusMessage ?? null,
          error: span.statusCode === 2 ? 1 : 0,
          traceState: span.traceState ?? null,
          attributes: JSON.stringify(span.attributes),
          resource: JSON.stringify(span.resource),
          scope: JSON.stringify(span.scope),
          events: JSON.stringify(span.events),
          links: JSON.stringify(span.links),
        });
      }
      for (const traceId of traceIds) this.refreshTrace.run({ traceId });
    })();
  }

  listTraces(query: TraceQuery = {}): TracePage {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (query.from !== undefined) {
      where.push('t.start_us >= @fromUs');
      params['fromUs'] = Math.floor(query.from * 1000);
    }
    if (query.to !== undefined) {
      where.push('t.start_us <= @toUs');
      params['toUs'] = Math.floor(query.to * 1000);
    }
    if (query.minDurationMs !== undefined) {
      where.push('t.duration_us >= @minDurationUs');
      params['minDurationUs'] = Math.ceil(query.minDurationMs * 1000);
    }
    if (query.errorsOnly) where.push('t.error_count > 0');
    if (query.service !== undefined || query.name !== undefined) {
      const span: string[] = [];
      if (query.service !== undefined) {
        span.push('s.service = @service');
        params['service'] = query.service;
      }
      if (query.name !== undefined) {
        span.push('s.name = @name');
        params['name'] = query.name;
      }
      where.push(`EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id AND ${span.join(' AND ')})`);
    }
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && cursor === undefined) throw new RangeError('cursor is not valid');
    if (cursor) {
      where.push('(t.start_us < @cursorStart OR (t.start_us = @cursorStart AND t.trace_id < @cursorId))');
      params['cursorStart'] = cursor.startUs;
      params['cursorId'] = cursor.traceId;
    }
    const limit = query.limit ?? 50;
    params['limit'] = limit + 1;
    params['offset'] = cursor ? 0 : (query.offset ?? 0);
    const rows = this.db
      .prepare(
        `SELECT t.trace_id, t.start_us, t.duration_us, t.root_service, t.root_name, t.span_count, t.error_count,
           t.services
         FROM traces t ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY t.start_us DESC, t.trace_id DESC LIMIT @limit OFFSET @offset`,
      )
      .all(params) as TraceRow[];
    const more = rows.length > limit;
    const traces = rows.slice(0, limit).map(toSummary);
    const last = traces[traces.length - 1];
    return { traces, nextCursor: more && last ? encodeCursor(last.startUs, last.traceId) : null };
  }

  getTrace(traceId: string): TraceDetail | undefined {
    const rows = this.db
      .prepare('SELECT * FROM spans WHERE trace_id = ? ORDER BY start_us, parent_span_id IS NOT NULL, rowid')
      .all(traceId.toLowerCase()) as SpanRow[];
    if (rows.length === 0) return undefined;
    const spans = rows.map(toRecord);
    // A loop, not Math.min(...spread): a trace of ~125k spans or more overflowed the stack with the arguments.
    let startUs = Number.POSITIVE_INFINITY;
    let endUs = Number.NEGATIVE_INFINITY;
    for (const s of spans) {
      if (s.startUs < startUs) startUs = s.startUs;
      if (s.startUs + s.durationUs > endUs) endUs = s.startUs + s.durationUs;
    }
    return { traceId: traceId.toLowerCase(), startUs, durationUs: endUs - startUs, spans };
  }

  services(): string[] {
    const rows = this.db.prepare('SELECT DISTINCT service FROM spans ORDER BY service').all() as {
      service: string;
    }[];
    return rows.map((r) => r.service);
  }

  operations(service?: string): Operation[] {
    const rows = (
      service === undefined
        ? this.db.prepare('SELECT name, count(*) AS n FROM spans GROUP BY name ORDER BY name').all()
        : this.db
            .prepare('SELECT name, count(*) AS n FROM spans WHERE service = ? GROUP BY name ORDER BY name')
            .all(service)
    ) as { name: string; n: number }[];
    return rows.map((r) => ({ name: r.name, spanCount: r.n }));
  }

  /**
   * Service-to-service calls: a span whose parent belongs to another service is one call from the parent's service
   * to its own (a client span → the server span it caused, or any cross-service parent link). A call failed when
   * the callee's span, or the caller's client span, has status ERROR.
   */
  dependencies(range: { from?: number | undefined; to?: number | undefined } = {}): Dependency[] {
    const where = ['c.service <> p.service'];
    const params: Record<string, number> = {};
    if (range.from !== undefined) {
      where.push('c.start_us >= @fromUs');
      params['fromUs'] = Math.floor(range.from * 1000);
    }
    if (range.to !== undefined) {
      where.push('c.start_us <= @toUs');
      params['toUs'] = Math.floor(range.to * 1000);
    }
    return this.db
      .prepare(
        `SELECT p.service AS parent, c.service AS child, count(*) AS calls,
           sum(CASE WHEN c.error = 1 OR (p.kind = 'client' AND p.error = 1) THEN 1 ELSE 0 END) AS errors
         FROM spans c JOIN spans p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
         WHERE ${where.join(' AND ')}
         GROUP BY p.service, c.service ORDER BY p.service, c.service`,
      )
      .all(params) as Dependency[];
  }

  spanCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM spans').get() as { n: number }).n;
  }

  /**
   * Deletes whole traces, oldest first: those that ended before `now - maxAgeMs`, then as many more as it takes to
   * get down to `maxSpans`. Returns the number of spans deleted.
   */
  enforceRetention(limits: { maxSpans: number; maxAgeMs: number; now?: number }): number {
    const cutoffUs = Math.floor(((limits.now ?? Date.now()) - limits.maxAgeMs) * 1000);
    return this.db.transaction(() => {
      let deleted = 0;
      const expired = this.db
        .prepare('SELECT trace_id FROM traces WHERE end_us < ?')
        .pluck()
        .all(cutoffUs) as string[];
      for (const traceId of expired) deleted += this.deleteTrace(traceId);
      let excess = this.spanCount() - limits.maxSpans;
      if (excess > 0) {
        const oldest = this.db
          .prepare('SELECT trace_id FROM traces ORDER BY start_us, trace_id')
          .pluck()
          .iterate() as IterableIterator<string>;
        const victims: string[] = [];
        for (const traceId of oldest) {
          if (excess <= 0) break;
          victims.push(traceId);
          excess -= this.spanCountOf(traceId);
        }
        for (const traceId of victims) deleted += this.deleteTrace(traceId);
      }
      return deleted;
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private spanCountOf(traceId: string): number {
    return (
      (this.db.prepare('SELECT span_count FROM traces WHERE trace_id = ?').pluck().get(traceId) as number) ??
      0
    );
  }

  private deleteTrace(traceId: string): number {
    this.deleteTraceRow.run(traceId);
    return this.deleteTraceSpans.run(traceId).changes;
  }
}

function toSummary(row: TraceRow): TraceSummary {
  return {
    traceId: row.trace_id,
    startUs: row.start_us,
    durationUs: row.duration_us,
    rootService: row.root_service,
    rootName: row.root_name,
    spanCount: row.span_count,
    errorCount: row.error_count,
    services: JSON.parse(row.services) as Record<string, number>,
  };
}

function toRecord(row: SpanRow): SpanRecord {
  return {
    traceId: row.trace_id,
    spanId: row.span_id,
    parentSpanId: row.parent_span_id ?? undefined,
    service: row.service,
    name: row.name,
    kind: row.kind,
    startUs: row.start_us,
    durationUs: row.duration_us,
    statusCode: row.status_code,
    statusMessage: row.status_message ?? undefined,
    traceState: row.trace_state ?? undefined,
    attributes: JSON.parse(row.attributes),
    resource: JSON.parse(row.resource),
    scope: JSON.parse(row.scope),
    events: JSON.parse(row.events),
    links: JSON.parse(row.links),
  };
}
