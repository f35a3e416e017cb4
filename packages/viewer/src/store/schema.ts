/**
 * One row per span, and one summary row per trace kept current on every insert so the trace list never aggregates
 * spans at read time. The indexes serve the list's order (newest first) and each of its filters.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS spans (
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT,
  service TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  start_us INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  status_code INTEGER NOT NULL,
  status_message TEXT,
  error INTEGER NOT NULL,
  trace_state TEXT,
  attributes TEXT NOT NULL,
  resource TEXT NOT NULL,
  scope TEXT NOT NULL,
  events TEXT NOT NULL,
  links TEXT NOT NULL,
  UNIQUE (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_by_service_name ON spans (service, name);
CREATE INDEX IF NOT EXISTS spans_by_name ON spans (name);
CREATE INDEX IF NOT EXISTS spans_by_trace_service_name ON spans (trace_id, service, name);

CREATE TABLE IF NOT EXISTS traces (
  trace_id TEXT PRIMARY KEY,
  start_us INTEGER NOT NULL,
  end_us INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  root_service TEXT NOT NULL,
  root_name TEXT NOT NULL,
  span_count INTEGER NOT NULL,
  error_count INTEGER NOT NULL,
  services TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_us, trace_id);
CREATE INDEX IF NOT EXISTS traces_by_duration ON traces (duration_us);
CREATE INDEX IF NOT EXISTS traces_with_errors_by_start ON traces (start_us, trace_id) WHERE error_count > 0;
CREATE INDEX IF NOT EXISTS traces_by_end ON traces (end_us);
`;

/**
 * Recomputes one trace's summary from its spans. The root is the span without a parent; when that has not arrived
 * (yet), the earliest span stands in for it.
 */
export const REFRESH_TRACE = `
INSERT OR REPLACE INTO traces
  (trace_id, start_us, end_us, duration_us, root_service, root_name, span_count, error_count, services)
SELECT
  trace_id,
  min(start_us),
  max(start_us + duration_us),
  max(start_us + duration_us) - min(start_us),
  (SELECT service FROM spans r WHERE r.trace_id = @traceId ORDER BY r.parent_span_id IS NOT NULL, r.start_us LIMIT 1),
  (SELECT name FROM spans r WHERE r.trace_id = @traceId ORDER BY r.parent_span_id IS NOT NULL, r.start_us LIMIT 1),
  count(*),
  sum(error),
  (SELECT json_group_object(service, n) FROM
    (SELECT service, count(*) AS n FROM spans WHERE trace_id = @traceId GROUP BY service ORDER BY min(start_us)))
FROM spans WHERE trace_id = @traceId GROUP BY trace_id
`;
