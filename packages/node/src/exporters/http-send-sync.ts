import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { timerDelay } from '../timer-delay.js';
import type { ExporterTlsOptions } from './tls-options.js';

export interface HttpSendSyncOptions {
  url: URL;
  headers: Readonly<Record<string, string>>;
  contentType: string;
  compression: 'gzip' | 'none';
  tls: ExporterTlsOptions | undefined;
  /** The whole send, the helper process's start included. */
  timeoutMillis: number;
}

export type SendSyncOutcome = { ok: true } | { ok: false; error: Error; connectionRefused: boolean };

/**
 * The POST a helper process makes: the first line of its stdin is the request as JSON, the rest the body. It
 * prints the answer's status, or the error's code. Written for `node -e`: CommonJS and built-ins only.
 */
const POST_ONCE = `
const fs = require('node:fs');
const input = fs.readFileSync(0);
const newline = input.indexOf(10);
const request = JSON.parse(input.subarray(0, newline).toString());
const say = (answer) => { fs.writeSync(1, String(answer)); process.exit(0); };
try {
  const url = new URL(request.url);
  const client = require(url.protocol === 'https:' ? 'node:https' : 'node:http');
  const post = client.request(url, { method: 'POST', headers: request.headers, agent: false, ...request.tls }, (res) => {
    res.on('error', () => say(res.statusCode));
    res.on('end', () => say(res.statusCode));
    res.resume();
  });
  post.setTimeout(request.timeoutMillis, () => post.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
  post.on('error', (error) => say(error.code || error.message));
  post.end(input.subarray(newline + 1));
} catch (error) {
  say(error.code || error.message);
}
`;

/**
 * Node options the helper keeps, from the command line and from NODE_OPTIONS: the ones that change how it reaches
 * the collector (which CAs it trusts, OpenSSL, TLS, DNS). Preloads (`--require`, `--import`), inspectors and the
 * like are left out: the helper runs no app code.
 */
const KEPT_OPTION =
  /^--(?:use-system-ca|use-openssl-ca|use-bundled-ca|openssl-[\w-]+|tls-[\w.-]+|dns-result-order|enable-fips|force-fips|secure-heap[\w-]*)(?:=|$)/;
/** Of those, the ones whose value may come as the next argument. */
const TAKES_VALUE =
  /^--(?:openssl-config|tls-cipher-list|tls-keylog|dns-result-order|secure-heap|secure-heap-min)$/;

/** The kept options of a list of arguments, each with its value. */
function keptOptions(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!KEPT_OPTION.test(arg)) continue;
    kept.push(arg);
    if (TAKES_VALUE.test(arg) && i + 1 < args.length) kept.push(args[++i]!);
  }
  return kept;
}

/**
 * One POST, made while the event loop cannot run: the process is exiting (`process.exit()`, an uncaught exception),
 * and only synchronous code still runs. A short-lived Node process sends the body (Node has no synchronous HTTP);
 * this one waits for it, at most `timeoutMillis`. No retries: the process is going away. A worker thread would do
 * the same inside the process, but would run the app's preloads (`--require`, `--import`: tsx, ts-node, another
 * agent) first; the helper process runs none of them.
 */
export function httpSendSync(body: Uint8Array, options: HttpSendSyncOptions): SendSyncOutcome {
  const unavailable = helperUnavailable();
  if (unavailable !== undefined) return failed(unavailable);
  // spawnSync takes whole milliseconds, and 0 would mean no limit at all.
  const timeoutMillis = timerDelay(Math.floor(options.timeoutMillis));
  if (!(timeoutMillis >= 1)) return failed('no time left for it');
  const payload = options.compression === 'gzip' ? gzipSync(body) : body;
  const headers: Record<string, string> = {
    ...options.headers,
    'content-type': options.contentType,
    'content-length': String(payload.length),
  };
  if (options.compression === 'gzip') headers['content-encoding'] = 'gzip';
  const request = {
    url: options.url.href,
    headers,
    tls: pemText(options.tls),
    timeoutMillis,
  };
  const input = Buffer.concat([Buffer.from(`${JSON.stringify(request)}\n`), payload]);
  const env: NodeJS.ProcessEnv = { ...process.env };
  const nodeOptions = keptOptions((env.NODE_OPTIONS ?? '').split(/\s+/));
  if (nodeOptions.length > 0) env.NODE_OPTIONS = nodeOptions.join(' ');
  else delete env.NODE_OPTIONS;
  // Electron's binary is Node only when asked.
  if (process.versions.electron !== undefined) env.ELECTRON_RUN_AS_NODE = '1';
  const child = spawnSync(process.execPath, [...keptOptions(process.execArgv), '-e', POST_ONCE], {
    input,
    env,
    timeout: timeoutMillis,
    stdio: ['pipe', 'pipe', 'ignore'],
    windowsHide: true,
    maxBuffer: 1024,
  });
  if (child.error !== undefined) {
    const code = (child.error as { code?: unknown }).code;
    return failed(code === 'ETIMEDOUT' ? `no answer within ${timeoutMillis} ms` : child.error.message);
  }
  const answer = child.stdout.toString('latin1').trim();
  if (/^2\d\d$/.test(answer)) return { ok: true };
  if (/^\d{3}$/.test(answer)) return failed(`HTTP ${answer}`);
  if (answer === 'ECONNREFUSED')
    return { ok: false, error: errorWithCode('connection refused', answer), connectionRefused: true };
  return failed(answer === '' ? 'the sending process ended without an answer' : answer);
}

/** Why no helper process can be started here, or undefined when one can. */
function helperUnavailable(): string | undefined {
  // A single executable application's binary, and one pkg or nexe packed, runs the app itself whatever its
  // arguments: `-e` would start a second copy of the app.
  if (isSingleExecutable()) return 'a single executable application cannot start a plain Node process';
  const packed = process as { pkg?: unknown; __nexe?: unknown };
  if (packed.pkg !== undefined || packed.__nexe !== undefined)
    return 'a packaged executable cannot start a plain Node process';
  const permission = (process as { permission?: { has(scope: string): boolean } }).permission;
  if (permission !== undefined && !permission.has('child'))
    return 'the permission model forbids child processes';
  return undefined;
}

function isSingleExecutable(): boolean {
  try {
    const sea = process.getBuiltinModule?.('node:sea') as { isSea?: () => boolean } | undefined;
    return sea?.isSea?.() === true;
  } catch {
    return false;
  }
}

function pemText(tls: ExporterTlsOptions | undefined): Record<string, string> | undefined {
  if (tls === undefined) return undefined;
  const text: Record<string, string> = {};
  for (const field of ['ca', 'cert', 'key'] as const) {
    const value = tls[field];
    if (value !== undefined) text[field] = typeof value === 'string' ? value : value.toString('latin1');
  }
  return text;
}

function failed(message: string): SendSyncOutcome {
  return { ok: false, error: new Error(message), connectionRefused: false };
}

function errorWithCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}
