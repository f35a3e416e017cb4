import { type EnvWarn, warnIgnored, warnOfEnv } from './env-warning.js';
import { isHttpToken } from './http-token.js';

// HTTP semantic conventions, http.request.method: the "known" methods are those of RFC 9110 §9 plus PATCH
// (RFC 5789), and QUERY (RFC 10008, one of the attribute's well-known values; Fastify routes it); any other becomes
// `_OTHER`. Server and client spans share this list, so both ends of one call report its method alike.
export const KNOWN_HTTP_METHODS: ReadonlySet<string> = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
]);

const ENV_NAME = 'OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS';

/**
 * The known methods, read once per app or installation. Semconv: an instrumentation that can turn valid methods
 * into `_OTHER` MUST let them be overridden, and an environment variable doing so is
 * `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS`: a comma list of case-sensitive methods replacing the default list.
 * Empty counts as unset; a name that is not an HTTP token is warned of and left out.
 */
export function knownHttpMethods(
  env: NodeJS.ProcessEnv = process.env,
  warn: EnvWarn = warnOfEnv,
): ReadonlySet<string> {
  const value = env[ENV_NAME]?.trim();
  if (value === undefined || value === '') return KNOWN_HTTP_METHODS;
  const methods = new Set<string>();
  for (const entry of value.split(',')) {
    const method = entry.trim();
    if (method === '') continue;
    if (!isHttpToken(method)) {
      warnIgnored(
        warn,
        `${ENV_NAME} must be a comma list of HTTP methods; got '${method}'`,
        'it is left out',
      );
      continue;
    }
    methods.add(method);
  }
  return methods.size > 0 ? methods : KNOWN_HTTP_METHODS;
}

/**
 * `http.request.method` value: the method as sent when `known` has it (a custom list is case-sensitive), else its
 * canonical uppercase when that is known (`patch` → PATCH), else `_OTHER` (bounded cardinality). Server and client
 * spans alike.
 */
export function normalizeMethod(method: string | undefined, known: ReadonlySet<string>): string {
  if (method === undefined) return '_OTHER';
  if (known.has(method)) return method;
  const upper = method.toUpperCase();
  return known.has(upper) ? upper : '_OTHER';
}
