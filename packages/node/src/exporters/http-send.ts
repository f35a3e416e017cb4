import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { suppressTracing } from '../context.js';
import { timerDelay } from '../timer-delay.js';
import { printable } from './log-text.js';

const gzipAsync = promisify(gzip);

/** Exponential backoff between attempts (OTLP spec §Retry: exponential backoff with jitter). */
export interface RetryPolicy {
  /** Attempts including the first. Default 5. */
  maxAttempts: number;
  /** Wait before the second attempt. Default 1000 ms. */
  initialBackoffMillis: number;
  /** Upper bound of one wait. Default 5000 ms. */
  maxBackoffMillis: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialBackoffMillis: 1000,
  maxBackoffMillis: 5000,
};

export interface HttpSendOptions {
  url: URL;
  headers: Readonly<Record<string, string>>;
  contentType: string;
  /** Budget for the whole send, every retry and wait included. */
  timeoutMillis: number;
  compression: 'gzip' | 'none';
  retry?: Partial<RetryPolicy> | undefined;
  agent?: http.Agent | undefined;
  /**
   * Called after each failed attempt (`attempt` counts from 1), retried or not, so a caller can warn before the
   * retries run out.
   */
  onFailedAttempt?: ((error: Error, connectionRefused: boolean, attempt: number) => void) | undefined;
  /**
   * Asked after each failed attempt: when it answers true, a refused connection (nothing listening) is not retried.
   * `wakeUp` ends the wait after a refused attempt early, so that the question is asked again at once.
   */
  refusedIsFinal?: (() => boolean) | undefined;
  wakeUp?: Promise<void> | undefined;
  /**
   * Told of each attempt's request as it is made, and `undefined` once that attempt has its answer or failed, with
   * `delivered` true for a 2xx answer: from then on the body is the receiver's, whatever the caller does next.
   */
  onAttempt?: ((request: http.ClientRequest | undefined, delivered?: boolean) => void) | undefined;
}

export type SendOutcome =
  | { ok: true; status: number; body: Uint8Array; contentType: string | undefined }
  | {
      ok: false;
      error: Error;
      status?: number | undefined;
      retryAfterMs?: number | undefined;
      /** Nothing listened at the address (ECONNREFUSED): the one failure worth telling the user about at once. */
      connectionRefused: boolean;
    };

type Attempt =
  | {
      kind: 'response';
      status: number;
      retryAfter: string | undefined;
      location: string | undefined;
      body: Uint8Array;
      contentType: string | undefined;
    }
  | { kind: 'error'; error: Error & { code?: string } };

// OTLP/HTTP spec §Failures: only these statuses are retryable; every other 4xx/5xx is final.
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** A collector's answer is a small protobuf or JSON document; read no more than this of it. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const JITTER = 0.2;

/**
 * POSTs `body`, retrying network errors and 429/502/503/504 with exponential backoff and jitter, honouring
 * `Retry-After`. Never rejects. Runs under `suppressTracing`, so outgoing-call instrumentation neither traces
 * these requests nor injects headers into them.
 */
export async function httpSend(body: Uint8Array, options: HttpSendOptions): Promise<SendOutcome> {
  const deadline = Date.now() + options.timeoutMillis;
  const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const headers: Record<string, string> = { ...options.headers, 'content-type': options.contentType };
  let payload = body;
  if (options.compression === 'gzip') {
    payload = await gzipAsync(body);
    headers['content-encoding'] = 'gzip';
  }
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return timedOut(options.timeoutMillis);
    const result = await postOnce(options.url, payload, headers, remaining, options.agent, options.onAttempt);
    if (result.kind === 'response' && result.status >= 200 && result.status < 300) {
      return { ok: true, status: result.status, body: result.body, contentType: result.contentType };
    }
    const { failure, retryable } = assess(result, options.url);
    options.onFailedAttempt?.(failure.error, failure.connectionRefused, attempt);
    if (!retryable || (failure.connectionRefused && options.refusedIsFinal?.() === true)) return failure;
    // Returned when this send ends here too: the batch processor holds the next batches for it.
    const retryAfterMs = result.kind === 'response' ? parseRetryAfter(result.retryAfter) : undefined;
    if (attempt >= retry.maxAttempts) return { ...failure, retryAfterMs };
    const wait = retryAfterMs ?? backoff(attempt, retry);
    if (Date.now() + wait >= deadline) return { ...failure, retryAfterMs };
    const wakeUp = failure.connectionRefused ? options.wakeUp : undefined;
    await (wakeUp === undefined ? sleep(wait) : Promise.race([sleep(wait), wakeUp]));
  }
}

type Failure = Extract<SendOutcome, { ok: false }>;

/** What a failed attempt tells the user, and whether another attempt could go differently. */
function assess(result: Attempt, url: URL): { failure: Failure; retryable: boolean } {
  if (result.kind === 'error') {
    const wrongProtocol = wrongProtocolReason(result.error);
    const reason = wrongProtocol ?? printable(result.error.message);
    return {
      failure: {
        ok: false,
        // The original, with its code and OpenSSL's full text, stays reachable as `cause` for debugging.
        error: reason === result.error.message ? result.error : new Error(reason, { cause: result.error }),
        connectionRefused: result.error.code === 'ECONNREFUSED',
      },
      // The endpoint speaks another protocol: no later attempt will find it speaking ours.
      retryable: wrongProtocol === undefined,
    };
  }
  return {
    failure: {
      ok: false,
      status: result.status,
      error: new Error(`HTTP ${result.status}${responseDetail(result, url)}`),
      connectionRefused: false,
    },
    retryable: RETRYABLE_STATUS.has(result.status),
  };
}

/**
 * Network errors that mean the URL names a server of another protocol, in words that say what to change. Each is
 * permanent, unlike a reset or a timeout.
 */
function wrongProtocolReason(error: Error & { code?: string }): string | undefined {
  // Node's HTTP/1 parser met an answer that does not start `HTTP/1.x`. An HTTP/2 prior-knowledge server (a
  // collector's gRPC port) sends a SETTINGS frame first: HPE_INVALID_CONSTANT on Node 20, as is any answer not
  // starting `HTTP/`; one starting `HTTP/` with an unknown version gives HPE_INVALID_VERSION.
  if (error.code === 'HPE_INVALID_CONSTANT' || error.code === 'HPE_INVALID_VERSION') {
    return 'the server did not answer in HTTP/1.1: a gRPC port? OTLP/HTTP is usually 4318, gRPC 4317';
  }
  // A TLS handshake answered in plain HTTP. Node 20 reports it as `write EPROTO` followed by OpenSSL's text (its
  // source path and a newline included); an OpenSSL error Node decorates itself carries ERR_SSL_WRONG_VERSION_NUMBER.
  // Other EPROTO reasons (a refused client certificate, no common TLS version) come from a TLS server, and keep
  // their own text.
  if (
    error.code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    (error.code === 'EPROTO' && error.message.includes('wrong version number'))
  ) {
    return 'the server does not speak TLS there: use http://?';
  }
  return undefined;
}

function responseDetail(result: Extract<Attempt, { kind: 'response' }>, url: URL): string {
  // A redirect is not followed; where it points tells the user what to configure (often https://). Only the
  // target, and without its userinfo or query: the body, which may repeat the whole Location, is left out too.
  const { location } = result;
  if (result.status >= 300 && result.status < 400 && location !== undefined && URL.canParse(location, url)) {
    return ` redirect to ${urlForLogs(new URL(location, url))}, not followed`;
  }
  // The collector's reason helps (`invalid tenant`, `quota exceeded`), except where it may echo credentials back:
  // refusals of them say nothing more than their status.
  if (result.status === 401 || result.status === 403 || result.status === 407) return '';
  const detail = printable(new TextDecoder().decode(result.body.subarray(0, 200)));
  return detail ? `: ${detail}` : '';
}

/** The URL for logs: without userinfo or query, where credentials go (`https://tenant:token@…`, `?api_key=…`). */
export function urlForLogs(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function timedOut(timeoutMillis: number): SendOutcome {
  return {
    ok: false,
    error: new Error(`export timed out after ${timeoutMillis} ms`),
    connectionRefused: false,
  };
}

/** Retry-After is delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with ±20% jitter, so many processes that failed together do not retry together. */
export function backoff(attempt: number, policy: RetryPolicy): number {
  const base = Math.min(policy.maxBackoffMillis, policy.initialBackoffMillis * 1.5 ** (attempt - 1));
  return Math.max(0, Math.round(base * (1 + (Math.random() * 2 - 1) * JITTER)));
}

function sleep(ms: number): Promise<void> {
  // Unref'd: a retry wait alone never keeps the process alive past the app's own work.
  return new Promise((resolve) => setTimeout(resolve, timerDelay(ms)).unref());
}

function unrefSocket(socket: { unref(): unknown }): void {
  socket.unref();
}

function postOnce(
  url: URL,
  body: Uint8Array,
  headers: Record<string, string>,
  timeoutMillis: number,
  agent: http.Agent | undefined,
  onAttempt: ((request: http.ClientRequest | undefined, delivered?: boolean) => void) | undefined,
): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (attempt: Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onAttempt?.(undefined, attempt.kind === 'response' && attempt.status >= 200 && attempt.status < 300);
      resolve(attempt);
    };
    const transport = url.protocol === 'https:' ? https : http;
    const request = suppressTracing(() =>
      transport.request(
        url,
        { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, agent },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
            size += chunk.length;
          });
          response.on('end', () => {
            const retryAfter = response.headers['retry-after'];
            finish({
              kind: 'response',
              status: response.statusCode ?? 0,
              retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
              location: response.headers.location,
              body: Buffer.concat(chunks),
              contentType: response.headers['content-type'],
            });
          });
          response.on('error', (error) => finish({ kind: 'error', error }));
        },
      ),
    );
    const timer = setTimeout(() => {
      request.destroy(new Error(`export timed out after ${timeoutMillis} ms`));
    }, timerDelay(timeoutMillis));
    timer.unref();
    // Like the timers: a collector that accepts the connection but never answers must not keep a finished app
    // alive. Whoever waits for the export (forceFlush, shutdown, the beforeExit hook) holds the process instead.
    request.on('socket', unrefSocket);
    request.on('error', (error) => finish({ kind: 'error', error }));
    onAttempt?.(request);
    request.end(body);
  });
}
