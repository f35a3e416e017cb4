/**
 * What `url.full` / `url.query` keep of a query string:
 * - `'sensitive'` (default): values whose key looks secret become `REDACTED`;
 * - `'all'`: every value becomes `REDACTED` (keys stay, so the span still shows the shape of the call);
 * - `'none'`: the query is kept as sent.
 */
export type QueryRedaction = 'sensitive' | 'all' | 'none';

export interface UrlRedactionOptions {
  /** Default `'sensitive'`. */
  redactQuery?: QueryRedaction;
  /**
   * Extra keys whose values are redacted in `'sensitive'` mode, on top of the defaults. A string matches a key
   * exactly, ignoring case; a RegExp is tested against the decoded key.
   */
  sensitiveQueryKeys?: readonly (string | RegExp)[];
}

/** The replacement the HTTP semantic conventions use for `url.full` / `url.query` values. */
export const REDACTED = 'REDACTED';

// HTTP semantic conventions (url.full, url.query): values of these keys SHOULD be redacted by default.
const SEMCONV_KEYS = ['awsaccesskeyid', 'signature', 'sig', 'x-goog-signature'];
// The words of a key (split at `_`, `-`, `.` and camelCase: `access_token`, `apiKey`, `X-Amz-Security-Token`) that
// mark it as carrying a credential. Words, not substrings: `keyword`, `author`, `sessions` are ordinary keys whose
// values users search on (a word ending in `key` still counts, so `monkey` does).
const SENSITIVE_WORDS = new Set([
  'assertion',
  'auth',
  'authorization',
  'credential',
  'credentials',
  'hmac',
  'jwt',
  'otp',
  'passphrase',
  'passwd',
  'password',
  'pwd',
  'samlrequest',
  'samlresponse',
  'session',
  'sid',
  'sig',
  'signature',
  'ticket',
]);
// Words that are sensitive whole or as the end of a word written without separators (`apikey`, `accesstoken`,
// `clientsecret`, and the session ids servers put in URLs: `jsessionid`, `PHPSESSID`).
const SENSITIVE_ENDINGS = [
  'token',
  'key',
  'secret',
  'password',
  'passwd',
  'signature',
  'sessionid',
  'sessid',
];

/** Whether a word of a key (lowercase) names a credential. */
function isSensitiveWord(word: string): boolean {
  if (SENSITIVE_WORDS.has(word)) return true;
  for (const ending of SENSITIVE_ENDINGS) if (word.endsWith(ending)) return true;
  return false;
}

/** Whether any word of `key` names a credential: words end at a character that is no letter or digit, and where a lowercase letter or digit meets an uppercase one. */
function hasSensitiveWord(key: string): boolean {
  let start = 0;
  for (let i = 0; i <= key.length; i++) {
    const c = i < key.length ? key.charCodeAt(i) : 0;
    const letterOrDigit = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
    const camelBoundary = i > start && c >= 65 && c <= 90 && isLowerOrDigit(key.charCodeAt(i - 1));
    if (!letterOrDigit || camelBoundary) {
      if (i > start && isSensitiveWord(key.slice(start, i).toLowerCase())) return true;
      start = letterOrDigit ? i : i + 1;
    }
  }
  return false;
}

function isLowerOrDigit(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

/** A redaction policy compiled once per app; `redactUrl`/`redactQueryString` below are its one-off forms. */
export interface UrlRedactor {
  readonly mode: QueryRedaction;
  /** `url.full` without userinfo and with sensitive query values replaced. */
  url(url: URL | string): string;
  /** A raw query string (without the leading `?`) with sensitive values replaced. */
  query(query: string): string;
  /**
   * A path with the values of sensitive path parameters replaced: `/cart;jsessionid=…`, the session id Java servlet
   * containers write into URLs for clients without cookies.
   */
  path(path: string): string;
}

export function createUrlRedactor(options: UrlRedactionOptions = {}): UrlRedactor {
  const mode = options.redactQuery ?? 'sensitive';
  if (mode !== 'sensitive' && mode !== 'all' && mode !== 'none') {
    throw new RangeError(`redactQuery must be 'sensitive', 'all' or 'none'; got ${String(mode)}`);
  }
  const extraKeys = options.sensitiveQueryKeys ?? [];
  if (!Array.isArray(extraKeys)) {
    throw new TypeError('sensitiveQueryKeys must be an array of strings or RegExps');
  }
  const exact = new Set(SEMCONV_KEYS);
  const patterns: RegExp[] = [];
  for (const key of extraKeys) {
    if (typeof key === 'string') exact.add(key.toLowerCase());
    else if (key instanceof RegExp) patterns.push(key);
    else throw new TypeError(`sensitiveQueryKeys entries must be strings or RegExps; got ${typeof key}`);
  }

  const isSensitive = (key: string): boolean => {
    const lower = key.toLowerCase();
    if (exact.has(lower)) return true;
    if (hasSensitiveWord(key)) return true;
    for (const pattern of patterns) {
      pattern.lastIndex = 0;
      if (pattern.test(key)) return true;
    }
    return false;
  };

  const query = (raw: string): string => (mode === 'none' ? raw : redactPairs(raw, mode, isSensitive));
  const path = (raw: string): string =>
    mode === 'none' || raw.indexOf(';') === -1 ? raw : redactPathParameters(raw, mode, isSensitive);

  return {
    mode,
    query,
    path,
    url(input: URL | string): string {
      const text = typeof input === 'string' ? input : input.href;
      return redactUrlText(text, query, path);
    },
  };
}

/** `;key=value` parameters of path segments (RFC 3986 §3.3), their values redacted as query values are. */
function redactPathParameters(
  raw: string,
  mode: QueryRedaction,
  isSensitive: (key: string) => boolean,
): string {
  return raw.replace(PATH_PARAMETER, (whole: string, key: string) =>
    mode === 'all' || isSensitive(decodeKey(key)) ? `;${key}=${REDACTED}` : whole,
  );
}

const PATH_PARAMETER = /;([^;=/?#]+)=([^;/?#]*)/g;

/** One-off form of `createUrlRedactor(options).url(url)`; compile a redactor for repeated use. */
export function redactUrl(url: URL | string, options?: UrlRedactionOptions): string {
  return createUrlRedactor(options).url(url);
}

/** One-off form of `createUrlRedactor(options).query(query)`, for the server span's `url.query`. */
export function redactQueryString(query: string, options?: UrlRedactionOptions): string {
  return createUrlRedactor(options).query(query);
}

function redactUrlText(text: string, query: (raw: string) => string, path: (raw: string) => string): string {
  // Userinfo sits between "//" and the first "@" before the path; url.full MUST NOT carry credentials.
  const schemeEnd = text.indexOf('//');
  if (schemeEnd !== -1) {
    const authorityStart = schemeEnd + 2;
    // The last "@" of the authority, found in the same pass (`lastIndexOf` is a call into the runtime, ~750
    // instructions per outgoing call on Node 20).
    let at = -1;
    for (let i = authorityStart; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
      if (c === 64 /* @ */) at = i;
    }
    if (at !== -1) text = text.slice(0, authorityStart) + text.slice(at + 1);
  }
  if (text.indexOf(';') !== -1) {
    const question = text.indexOf('?');
    const hash = text.indexOf('#');
    const pathEnd = question !== -1 ? question : hash !== -1 ? hash : text.length;
    text = path(text.slice(0, pathEnd)) + text.slice(pathEnd);
  }
  const q = text.indexOf('?');
  if (q === -1) return text;
  const hash = text.indexOf('#', q);
  const end = hash === -1 ? text.length : hash;
  return text.slice(0, q + 1) + query(text.slice(q + 1, end)) + text.slice(end);
}

function redactPairs(raw: string, mode: QueryRedaction, isSensitive: (key: string) => boolean): string {
  if (raw.length === 0) return raw;
  let out = '';
  let start = 0;
  while (start <= raw.length) {
    let amp = raw.indexOf('&', start);
    if (amp === -1) amp = raw.length;
    const pair = raw.slice(start, amp);
    const eq = pair.indexOf('=');
    if (start > 0) out += '&';
    if (eq === -1) {
      out += pair;
    } else {
      const key = pair.slice(0, eq);
      out += mode === 'all' || isSensitive(decodeKey(key)) ? `${key}=${REDACTED}` : pair;
    }
    start = amp + 1;
  }
  return out;
}

function decodeKey(key: string): string {
  if (key.indexOf('%') === -1 && key.indexOf('+') === -1) return key;
  try {
    return decodeURIComponent(key.replaceAll('+', ' '));
  } catch {
    return key;
  }
}
