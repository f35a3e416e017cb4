import type { TraceQuery } from '../store/trace-query.js';

/** A query parameter the API cannot use; answered with 400 and this message. */
export class BadQuery extends Error {}

/** Parses GET /api/traces parameters into a TraceQuery, naming the parameter when one is wrong. */
export function traceQueryFrom(params: URLSearchParams): TraceQuery {
  const query: TraceQuery = {};
  const service = text(params, 'service');
  if (service !== undefined) query.service = service;
  const name = text(params, 'name');
  if (name !== undefined) query.name = name;
  const minDurationMs = number(params, 'minDurationMs', 0);
  if (minDurationMs !== undefined) query.minDurationMs = minDurationMs;
  const errorsOnly = params.get('errorsOnly');
  if (errorsOnly !== null && errorsOnly !== '') {
    if (errorsOnly !== 'true' && errorsOnly !== 'false')
      throw new BadQuery('errorsOnly must be true or false');
    query.errorsOnly = errorsOnly === 'true';
  }
  const range = timeRange(params);
  if (range.from !== undefined) query.from = range.from;
  if (range.to !== undefined) query.to = range.to;
  const limit = number(params, 'limit', 1, 1000);
  if (limit !== undefined) {
    if (!Number.isInteger(limit)) throw new BadQuery('limit must be an integer from 1 to 1000');
    query.limit = limit;
  }
  const offset = number(params, 'offset', 0);
  if (offset !== undefined) {
    if (!Number.isInteger(offset)) throw new BadQuery('offset must be a non-negative integer');
    query.offset = offset;
  }
  const cursor = text(params, 'cursor');
  if (cursor !== undefined) query.cursor = cursor;
  return query;
}

/** `from` and `to` as epoch milliseconds or ISO 8601 dates. */
export function timeRange(params: URLSearchParams): { from?: number; to?: number } {
  const out: { from?: number; to?: number } = {};
  for (const key of ['from', 'to'] as const) {
    const value = text(params, key);
    if (value === undefined) continue;
    const time = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(time)) throw new BadQuery(`${key} must be epoch milliseconds or an ISO 8601 date`);
    out[key] = time;
  }
  return out;
}

function text(params: URLSearchParams, key: string): string | undefined {
  const value = params.get(key);
  return value === null || value === '' ? undefined : value;
}

function number(
  params: URLSearchParams,
  key: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const value = text(params, key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new BadQuery(`${key} must be a number from ${min} to ${max}`);
  return n;
}
