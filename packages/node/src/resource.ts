import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { arch, hostname, platform } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { type EnvWarn, orIgnored, warnOfEnv } from './env-warning.js';
import { parseKeyValueList } from './key-value-list.js';
import type { Attributes, Resource } from './span-data.js';

// Where the semantic conventions name Node's `os.arch()` and `os.platform()` differently (host.arch, os.type), as
// OpenTelemetry's host and os detectors write them; every other value is the same in both. The process command line
// (`process.command_args`) is left out: arguments can carry secrets.
const HOST_ARCH: Readonly<Record<string, string>> = { arm: 'arm32', ia32: 'x86', ppc: 'ppc32', x64: 'amd64' };
const OS_TYPE: Readonly<Record<string, string>> = { sunos: 'solaris', win32: 'windows' };

/** Kept equal to package.json's version by a test. */
export const SDK_VERSION = '0.1.0';

export interface ResourceOptions {
  /** Wins over `OTEL_SERVICE_NAME` and `resourceAttributes['service.name']`. */
  serviceName?: string | undefined;
  serviceVersion?: string | undefined;
  /** Win over `OTEL_RESOURCE_ATTRIBUTES`; lose to `serviceName`/`serviceVersion`. */
  resourceAttributes?: Attributes | undefined;
  /** Where to look for the app's package.json (upwards). Default: `appDirectory(mainScript)`. */
  cwd?: string | undefined;
  /** The script Node runs. Default `process.argv[1]`. */
  mainScript?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Where a malformed `OTEL_RESOURCE_ATTRIBUTES` is reported (it is then ignored). Default `console.warn`. */
  warn?: EnvWarn | undefined;
}

/**
 * Builds the resource every span of this process carries. `service.name` comes from, in order: the option,
 * `OTEL_SERVICE_NAME`, `service.name` in `OTEL_RESOURCE_ATTRIBUTES` (OpenTelemetry resource SDK: OTEL_SERVICE_NAME
 * wins over it), the nearest package.json's `name` from the app's directory up (`appDirectory`), and
 * `unknown_service:node`.
 */
export function detectResource(options: ResourceOptions = {}): Resource {
  const env = options.env ?? process.env;
  const fromEnv = orIgnored(options.warn ?? warnOfEnv, () =>
    parseKeyValueList(env['OTEL_RESOURCE_ATTRIBUTES'], 'OTEL_RESOURCE_ATTRIBUTES'),
  );
  // An empty service.name there (`service.name=,team=pay`) counts as unset, as a blank OTEL_SERVICE_NAME does: a
  // service without a name cannot be found in any backend.
  if (fromEnv?.['service.name']?.trim() === '') delete fromEnv['service.name'];
  const pkg = findPackage(options.cwd ?? appDirectory(options.mainScript ?? process.argv[1]));
  const attributes: Attributes = {
    'service.name': pkg?.name ?? 'unknown_service:node',
    ...(pkg?.version === undefined ? {} : { 'service.version': pkg.version }),
    'telemetry.sdk.name': 'tracewire',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.version': SDK_VERSION,
    'host.name': hostname(),
    'host.arch': HOST_ARCH[arch()] ?? arch(),
    'os.type': OS_TYPE[platform()] ?? platform(),
    'process.pid': process.pid,
    'process.executable.name': basename(process.execPath),
    'process.executable.path': process.execPath,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'process.runtime.description': 'Node.js',
    ...fromEnv,
    ...options.resourceAttributes,
  };
  // Trimmed, and blank counts as unset, as `readEnv` does for every other variable.
  const envServiceName = env['OTEL_SERVICE_NAME']?.trim();
  if (options.resourceAttributes?.['service.name'] === undefined && envServiceName) {
    attributes['service.name'] = envServiceName;
  }
  if (options.serviceName !== undefined) attributes['service.name'] = options.serviceName;
  if (options.serviceVersion !== undefined) attributes['service.version'] = options.serviceVersion;
  return { attributes };
}

/**
 * Where the app is: the directory of the script Node runs, so that a service of a monorepo started from the repo's
 * root (`node services/orders/dist/main.js`) is named by its own package.json, not the root's. Read as Node loads
 * it: a symlink's target, and a directory itself (`node .`). The working directory where there is no script
 * (`node -e`, a REPL) or it belongs to a tool that runs the app (pm2, a test runner: a script inside `node_modules`).
 */
export function appDirectory(mainScript: string | undefined): string {
  if (mainScript === undefined || mainScript === '') return process.cwd();
  const given = resolve(mainScript);
  let script = given;
  let isDirectory = false;
  try {
    script = realpathSync(given);
    // `node .` runs the directory; `node app` runs app.js over an app/ directory beside it, as Node resolves.
    isDirectory = statSync(script).isDirectory() && !SCRIPT_EXTENSIONS.some((ext) => existsSync(given + ext));
  } catch {
    // `node app` runs app.js: Node keeps the name as given, in the same directory.
  }
  // A tool's script (pm2's, a test runner's, in node_modules/.bin or installed globally), which runs the app from
  // the working directory. A CLI that is itself the service, installed so, is named by its working directory too.
  if (`${given}${sep}${script}`.split(sep).includes('node_modules')) return process.cwd();
  return isDirectory ? script : dirname(script);
}

// What Node tries after a main script's name as given: not .mjs or .cjs.
const SCRIPT_EXTENSIONS = ['.js', '.json', '.node'];

interface PackageInfo {
  name: string;
  version: string | undefined;
}

function findPackage(start: string): PackageInfo | undefined {
  let dir = start;
  for (;;) {
    const info = readPackage(join(dir, 'package.json'));
    if (info !== undefined) return info;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function readPackage(path: string): PackageInfo | undefined {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  const { name, version } = (json ?? {}) as { name?: unknown; version?: unknown };
  if (typeof name !== 'string' || name === '') return undefined;
  return { name, version: typeof version === 'string' && version !== '' ? version : undefined };
}
