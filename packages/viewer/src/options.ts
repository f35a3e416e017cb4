import { join } from 'node:path';

/** Options for `startViewer`. Every one has a default; see the README's options table. */
export interface ViewerOptions {
  /** Interface all three ports listen on. Default `127.0.0.1`; `0.0.0.0` to receive from other machines or containers. */
  host?: string;
  /** The page and JSON API. Default 8080; 0 picks a free port. */
  uiPort?: number;
  /** OTLP/HTTP receiver (`/v1/traces`). Default 4318, the OTLP/HTTP standard port; 0 picks a free port. */
  otlpPort?: number;
  /** Zipkin v2 receiver (`/api/v2/spans`). Default 9411, Zipkin's standard port; 0 picks a free port. */
  zipkinPort?: number;
  /** SQLite file, or `:memory:`. Default `.tracewire/traces.db` under the working directory. */
  database?: string;
  /** Keep at most this many spans; the oldest traces go first. Default 200000. */
  maxSpans?: number;
  /** Delete traces that ended longer ago than this. Default 7 days. */
  maxAgeMs?: number;
  /** How often retention runs. Default 30000 (30 s). */
  retentionIntervalMs?: number;
  /** Largest request body a receiver accepts, compressed or not. Default 8 MiB. */
  maxBodyBytes?: number;
}

export type ResolvedViewerOptions = Required<ViewerOptions>;

export function resolveViewerOptions(options: ViewerOptions = {}): ResolvedViewerOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('viewer options must be an object');
  const resolved: ResolvedViewerOptions = {
    host: options.host ?? '127.0.0.1',
    uiPort: port(options.uiPort, 'uiPort', 8080),
    otlpPort: port(options.otlpPort, 'otlpPort', 4318),
    zipkinPort: port(options.zipkinPort, 'zipkinPort', 9411),
    database: options.database ?? join(process.cwd(), '.tracewire', 'traces.db'),
    maxSpans: positive(options.maxSpans, 'maxSpans', 200_000),
    maxAgeMs: positive(options.maxAgeMs, 'maxAgeMs', 7 * 24 * 3600_000),
    retentionIntervalMs: positive(options.retentionIntervalMs, 'retentionIntervalMs', 30_000),
    maxBodyBytes: positive(options.maxBodyBytes, 'maxBodyBytes', 8 * 1024 * 1024),
  };
  if (typeof resolved.host !== 'string' || resolved.host === '') {
    throw new TypeError('host must be a non-empty string such as "127.0.0.1" or "0.0.0.0"');
  }
  if (typeof resolved.database !== 'string' || resolved.database === '') {
    throw new TypeError('database must be a file path or ":memory:"');
  }
  return resolved;
}

function port(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(
      `${name} must be an integer port from 0 to 65535 (0 picks a free one), got ${value}`,
    );
  }
  return value;
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  }
  return value;
}
