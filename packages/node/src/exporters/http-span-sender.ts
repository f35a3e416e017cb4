import http from 'node:http';
import https from 'node:https';
import { isExiting, whenExiting } from '../exit-state.js';
import { checkHeaders } from '../option-checks.js';
import { SDK_VERSION } from '../resource.js';
import { sdkWarn } from '../sdk-warn.js';
import type { ExportResult } from '../span-data.js';
import { parseUrl, positive } from './exporter-options.js';
import {
  FailureWarning,
  isRateLimited,
  type RateLimitedWarn,
  rateLimitedWarn,
  type WarnFunction,
} from './failure-warning.js';
import { httpSend, type RetryPolicy, type SendOutcome, urlForLogs } from './http-send.js';
import { httpSendSync } from './http-send-sync.js';
import { checkTls, type ExporterTlsOptions } from './tls-options.js';

/** What every HTTP exporter takes besides its format. */
export interface HttpSenderOptions {
  url?: string | undefined;
  /** Extra request headers, e.g. an API key. Default none; a `user-agent` given here replaces tracewire's. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Budget for one export, retries included. Default 10000 ms. */
  timeoutMillis?: number | undefined;
  /** Backoff between retries; default 5 attempts, 1 s growing ×1.5 up to 5 s. */
  retry?: Partial<RetryPolicy> | undefined;
  /**
   * Where warnings go: an outage as it starts, every 5 minutes while it lasts and when it ends; what the collector
   * said when it rejected spans. Default `console.warn`.
   */
  warn?: WarnFunction | undefined;
  /** For an https:// URL: a CA to trust, and a client certificate and key for mutual TLS. */
  tls?: ExporterTlsOptions | undefined;
}

const TLS_NAMES = { ca: 'tls.ca', cert: 'tls.cert', key: 'tls.key' };

/** A delivered body's response; the exporter reads what its protocol puts there (OTLP's partialSuccess). */
export type Delivery =
  | { ok: true; responseBody: Uint8Array; contentType: string | undefined }
  | { ok: false; result: ExportResult };

/** A POST under way, kept so that an exit can still deliver it (`postUnfinishedSync`). */
interface UnfinishedPost {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly compression: 'gzip' | 'none';
  /** The attempt in flight; none before the first, while gzip runs, and between attempts. */
  request: http.ClientRequest | undefined;
}

/**
 * Whether the receiver may already have `post`: its attempt's bytes have all left the process (Node passed them to
 * the kernel, which still sends them after the exit). Read from the request itself at the exit: its 'finish' event
 * comes a turn after that, and a `server.close()` callback calling `process.exit()` runs in between.
 */
function mayHaveArrived(post: UnfinishedPost): boolean {
  const request = post.request;
  if (request === undefined) return false;
  const socket = request.socket;
  return socket != null && !socket.connecting && request.writableLength === 0;
}

/**
 * What a built-in exporter's `exportSync` answers for a subclass that overrides `export` (to filter or redact spans)
 * but not `exportSync`: delivering at the exit would bypass that override.
 */
export const OVERRIDDEN_EXPORT: ExportResult = {
  code: 1,
  error: new Error('export() is overridden and exportSync() is not: no delivery at the exit'),
};

/** `timeoutMillis` when none is given: `OTEL_EXPORTER_OTLP_TIMEOUT`'s default. */
export const DEFAULT_SEND_TIMEOUT_MILLIS = 10_000;

/**
 * The part OTLP and Zipkin exporters share: one keep-alive connection pool, the retrying POST, the outage warnings
 * (rate-limited: the tracer's shared limit, or the exporter's own), and a shutdown that waits for exports in flight.
 * Exporters differ only in how they encode.
 */
export class HttpSpanSender {
  readonly url: URL;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMillis: number;
  private readonly retry: Partial<RetryPolicy> | undefined;
  private readonly warning: FailureWarning;
  /** For what the collector says about spans it took (partial success), under the same limit as the outages. */
  readonly notice: RateLimitedWarn;
  /** The endpoint as logs show it. */
  readonly shownUrl: string;
  private readonly agent: http.Agent;
  private readonly tls: ExporterTlsOptions | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly unfinished = new Set<UnfinishedPost>();
  private isShutdown = false;
  /** Set once the last exports have begun (`beginShutdown`, or the process's exit hooks). */
  private closing = false;
  private announceClosing: () => void = () => {};
  /** Settles when `closing` is set: a retry waiting for its turn wakes up then. */
  private readonly closingStarted: Promise<void>;

  constructor(exporterName: string, defaultUrl: string, options: HttpSenderOptions) {
    this.url = parseUrl('url', options.url ?? defaultUrl);
    this.timeoutMillis = positive('timeoutMillis', options.timeoutMillis ?? DEFAULT_SEND_TIMEOUT_MILLIS);
    this.headers = withUserAgent(checkHeaders({ ...options.headers }, 'headers'));
    this.retry = options.retry;
    this.shownUrl = urlForLogs(this.url);
    const warn = options.warn ?? sdkWarn;
    this.notice = isRateLimited(warn) ? warn : rateLimitedWarn(warn);
    this.warning = new FailureWarning(exporterName, this.shownUrl, this.notice);
    // Keep-alive: one TCP connection serves every batch; Node unrefs idle pooled sockets. No socket cap: the batch
    // processor bounds the exports in flight (maxConcurrentExports), and a request queued here for a socket spent
    // its timeout waiting (a fifth concurrent export to a slow collector timed out unsent).
    const pool = { keepAlive: true };
    const tls = options.tls === undefined ? undefined : checkTls(options.tls, TLS_NAMES);
    this.tls = tls;
    this.agent = this.url.protocol === 'https:' ? new https.Agent({ ...pool, ...tls }) : new http.Agent(pool);
    const ownClosing = new Promise<void>((resolve) => {
      this.announceClosing = resolve;
    });
    this.closingStarted = Promise.race([ownClosing, whenExiting()]);
  }

  /**
   * What is exported from now on is the last (the processor's shutdown has begun): a collector that refuses
   * connections is not retried, by exports to come nor by one already waiting to retry.
   */
  beginShutdown(): void {
    this.closing = true;
    this.announceClosing();
  }

  private isClosing = (): boolean => this.closing || isExiting();

  /** Runs one export, tracked so `flush()` and `shutdown()` can wait for it. Never rejects. */
  track(exportOnce: () => Promise<ExportResult>): Promise<ExportResult> {
    if (this.isShutdown) return Promise.resolve({ code: 1, error: new Error('exporter is shut down') });
    const result = exportOnce().catch(
      (error: unknown): ExportResult => ({
        code: 1,
        error: error instanceof Error ? error : new Error(String(error)),
      }),
    );
    this.pending.add(result);
    void result.finally(() => this.pending.delete(result));
    return result;
  }

  async post(body: Uint8Array, contentType: string, compression: 'gzip' | 'none'): Promise<Delivery> {
    const unfinished: UnfinishedPost = { body, contentType, compression, request: undefined };
    this.unfinished.add(unfinished);
    let outcome: SendOutcome;
    try {
      outcome = await httpSend(body, {
        url: this.url,
        headers: this.headers,
        contentType,
        timeoutMillis: this.timeoutMillis,
        compression,
        retry: this.retry,
        // Once the last exports begin (the exit hooks flush, or the tracer shuts down), a collector that is not
        // running cannot be expected back in time: an export already waiting to retry one stops at its next refused
        // attempt, and waits no longer for it. A developer's `await tracer.shutdown()` waited 8 s otherwise.
        refusedIsFinal: this.isClosing,
        wakeUp: this.closingStarted,
        agent: this.agent,
        // Say at once that nothing listens, and what else fails once a retry failed too, rather than after every
        // retry has (about 8 s, the app may be gone by then, and under load the full queue's line came first). A
        // single failed attempt is often a kept-alive socket the collector had just closed, which the retry fixes.
        onFailedAttempt: (error, connectionRefused, attempt) => {
          if (connectionRefused || attempt >= 2) {
            this.warning.failed(error, connectionRefused, false, this.isClosing());
          }
        },
        onAttempt: (request, delivered) => {
          unfinished.request = request;
          // Not left for the `finally` below, a few microtasks later: an exit in between would send it again.
          if (delivered === true) this.unfinished.delete(unfinished);
        },
      });
    } finally {
      this.unfinished.delete(unfinished);
    }
    if (!outcome.ok) {
      this.warning.failed(outcome.error, outcome.connectionRefused, true, this.isClosing());
      return { ok: false, result: { code: 1, error: outcome.error, retryAfterMs: outcome.retryAfterMs } };
    }
    this.warning.succeeded();
    return { ok: true, responseBody: outcome.body, contentType: outcome.contentType };
  }

  /**
   * The last POST, as the process exits without a turn of the event loop left (`httpSendSync`): one attempt,
   * at most `timeoutMillis`, and no longer than this exporter's own timeout.
   */
  postSync(
    body: Uint8Array,
    contentType: string,
    compression: 'gzip' | 'none',
    timeoutMillis: number,
  ): ExportResult {
    if (this.isShutdown) return { code: 1, error: new Error('exporter is shut down') };
    return this.sendSync(body, contentType, compression, timeoutMillis);
  }

  private sendSync(
    body: Uint8Array,
    contentType: string,
    compression: 'gzip' | 'none',
    timeoutMillis: number,
  ): ExportResult {
    const outcome = httpSendSync(body, {
      url: this.url,
      headers: this.headers,
      contentType,
      compression,
      tls: this.url.protocol === 'https:' ? this.tls : undefined,
      timeoutMillis: Math.min(timeoutMillis, this.timeoutMillis),
    });
    if (!outcome.ok) {
      this.warning.lostAtExit(outcome.error, outcome.connectionRefused);
      return { code: 1, error: outcome.error };
    }
    this.warning.succeeded();
    return { code: 0 };
  }

  /**
   * At an exit with no event loop left, the POSTs still under way that the receiver cannot have yet (still
   * connecting or writing, or waiting to retry), sent again synchronously, oldest first, within `timeoutMillis`. One
   * whose bytes have all left the process stays as it is: the kernel still delivers them after the exit, and
   * sending it again would duplicate its spans.
   */
  postUnfinishedSync(timeoutMillis: number): void {
    const endsAt = Date.now() + timeoutMillis;
    for (const post of [...this.unfinished]) {
      this.unfinished.delete(post);
      const left = endsAt - Date.now();
      if (mayHaveArrived(post) || left <= 0) continue;
      if (this.sendSync(post.body, post.contentType, post.compression, left).code !== 0) return;
    }
  }

  async flush(): Promise<void> {
    await Promise.all(this.pending);
  }

  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    this.isShutdown = true;
    await this.flush();
    this.agent.destroy();
  }
}

/**
 * OTLP exporter spec: exporters SHOULD send a User-Agent naming the exporter, its language and version, so a
 * collector or vendor can tell which SDK sent a batch. One the user set wins, whatever its case.
 */
function withUserAgent(headers: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'user-agent') return headers;
  return { 'user-agent': `tracewire-node/${SDK_VERSION}`, ...headers };
}
