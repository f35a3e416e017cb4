// Exporter options are checked once, at construction: a bad value throws naming the option and what it accepts.

export function parseUrl(option: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(
      `${option} must be an absolute http:// or https:// URL, got ${JSON.stringify(value)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`${option} must be an http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  return url;
}

export function positive(option: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${option} must be a positive number of milliseconds, got ${value}`);
  }
  return value;
}

export function oneOf<T extends string>(option: string, value: string, accepted: readonly T[]): T {
  if (!(accepted as readonly string[]).includes(value)) {
    throw new RangeError(
      `${option} must be one of ${accepted.map((a) => `'${a}'`).join(', ')}, got '${value}'`,
    );
  }
  return value as T;
}
