import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, hostname, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseKeyValueList } from '../src/key-value-list.js';
import { detectResource, SDK_VERSION } from '../src/resource.js';

const root = mkdtempSync(join(tmpdir(), 'tracewire-resource-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function appDir(pkg: object | undefined): string {
  const dir = mkdtempSync(join(root, 'app-'));
  if (pkg !== undefined) writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  const nested = join(dir, 'dist', 'server');
  mkdirSync(nested, { recursive: true });
  return nested;
}

describe('detectResource', () => {
  it('describes the SDK, host, process and runtime', () => {
    const { attributes } = detectResource({ env: {}, cwd: appDir({ name: 'shop', version: '1.2.3' }) });
    expect(attributes).toMatchObject({
      'telemetry.sdk.name': 'tracewire',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.version': SDK_VERSION,
      'host.name': hostname(),
      'process.pid': process.pid,
      'process.runtime.name': 'nodejs',
      'process.runtime.version': process.versions.node,
      'process.runtime.description': 'Node.js',
      'process.executable.path': process.execPath,
    });
    // The names the semantic conventions (and OpenTelemetry's detectors) give Node's os.arch() and os.platform().
    const expectedArch = { x64: 'amd64', arm64: 'arm64', ia32: 'x86' }[arch() as string] ?? arch();
    expect(attributes['host.arch']).toBe(expectedArch);
    expect(attributes['os.type']).toBe(platform() === 'win32' ? 'windows' : platform());
    expect(attributes['process.executable.name']).toMatch(/^node/);
  });

  it('keeps the SDK version equal to the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(SDK_VERSION).toBe(pkg.version);
  });

  it('takes service.name and service.version from the nearest package.json above the working directory', () => {
    const { attributes } = detectResource({ env: {}, cwd: appDir({ name: 'shop', version: '1.2.3' }) });
    expect(attributes['service.name']).toBe('shop');
    expect(attributes['service.version']).toBe('1.2.3');
  });

  it('skips a package.json without a name', () => {
    const outer = mkdtempSync(join(root, 'outer-'));
    writeFileSync(join(outer, 'package.json'), JSON.stringify({ name: 'outer-app' }));
    const inner = join(outer, 'inner');
    mkdirSync(inner);
    writeFileSync(join(inner, 'package.json'), JSON.stringify({ private: true }));
    expect(detectResource({ env: {}, cwd: inner }).attributes['service.name']).toBe('outer-app');
  });

  it('names a monorepo service by the package.json nearest the script Node runs, not the working directory', () => {
    const repo = mkdtempSync(join(root, 'repo-'));
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'monorepo' }));
    const service = join(repo, 'services', 'orders');
    mkdirSync(join(service, 'dist'), { recursive: true });
    writeFileSync(join(service, 'package.json'), JSON.stringify({ name: 'orders', version: '2.0.0' }));
    // As `node services/orders/dist/main.js` started from the repo's root: the working directory is another one.
    const { attributes } = detectResource({ env: {}, mainScript: join(service, 'dist', 'main.js') });
    expect(attributes['service.name']).toBe('orders');
    expect(attributes['service.version']).toBe('2.0.0');
  });

  it('reads the script as Node loads it: `node .` from the directory itself, a symlink from its target', () => {
    const service = mkdtempSync(join(root, 'orders-'));
    writeFileSync(join(service, 'package.json'), JSON.stringify({ name: 'orders' }));
    mkdirSync(join(service, 'dist'));
    writeFileSync(join(service, 'dist', 'main.js'), '');
    const bin = mkdtempSync(join(root, 'bin-'));
    symlinkSync(join(service, 'dist', 'main.js'), join(bin, 'orders'));
    // A globally installed tool (mocha, jest) running the app in the working directory: the tool is no service.
    const installed = join(mkdtempSync(join(root, 'global-')), 'node_modules', 'mocha');
    mkdirSync(join(installed, 'bin'), { recursive: true });
    writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: 'mocha' }));
    writeFileSync(join(installed, 'bin', 'mocha.js'), '');
    symlinkSync(join(installed, 'bin', 'mocha.js'), join(bin, 'mocha'));
    const workingDirectory = String(
      detectResource({ env: {}, cwd: process.cwd() }).attributes['service.name'],
    );
    // `node app` with app.js and an app/ directory beside it: Node runs app.js.
    mkdirSync(join(service, 'dist', 'main'));
    writeFileSync(join(service, 'dist', 'main', 'package.json'), JSON.stringify({ name: 'not-this-one' }));
    for (const [mainScript, name] of [
      [service, 'orders'],
      [join(bin, 'orders'), 'orders'],
      [join(service, 'dist', 'main'), 'orders'],
      [join(bin, 'mocha'), workingDirectory],
    ]) {
      expect(detectResource({ env: {}, mainScript }).attributes['service.name'], mainScript).toBe(name);
    }
  });

  it('reads the working directory for a script inside node_modules (pm2, a test runner) or none at all', () => {
    const fromWorkingDirectory = detectResource({ env: {}, cwd: process.cwd() }).attributes['service.name'];
    const tool = join(root, 'node_modules', 'pm2', 'lib', 'ProcessContainerFork.js');
    expect(detectResource({ env: {}, mainScript: tool }).attributes['service.name']).toBe(
      fromWorkingDirectory,
    );
    expect(detectResource({ env: {}, mainScript: '' }).attributes['service.name']).toBe(fromWorkingDirectory);
  });

  it('falls back to unknown_service:node without a package.json', () => {
    const { attributes } = detectResource({ env: {}, cwd: '/' });
    expect(attributes['service.name']).toBe('unknown_service:node');
    expect(attributes['service.version']).toBeUndefined();
  });

  it('prefers OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES and package.json', () => {
    const { attributes } = detectResource({
      env: { OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' },
      cwd: appDir({ name: 'shop' }),
    });
    expect(attributes['service.name']).toBe('from-env');
  });

  it('trims OTEL_SERVICE_NAME like every other variable, and a blank one counts as unset', () => {
    const named = detectResource({
      env: { OTEL_SERVICE_NAME: ' checkout \n' },
      cwd: appDir({ name: 'shop' }),
    });
    expect(named.attributes['service.name']).toBe('checkout');
    const blank = detectResource({
      env: { OTEL_SERVICE_NAME: '  ', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' },
      cwd: appDir({ name: 'shop' }),
    });
    expect(blank.attributes['service.name']).toBe('from-attrs');
  });

  it('takes an empty service.name in OTEL_RESOURCE_ATTRIBUTES as unset, keeping the other attributes', () => {
    const { attributes } = detectResource({
      env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=,team=pay' },
      cwd: appDir({ name: 'shop' }),
    });
    expect(attributes['service.name']).toBe('shop');
    expect(attributes['team']).toBe('pay');
  });

  it('uses service.name from OTEL_RESOURCE_ATTRIBUTES over package.json', () => {
    const { attributes } = detectResource({
      env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' },
      cwd: appDir({ name: 'shop' }),
    });
    expect(attributes['service.name']).toBe('from-attrs');
  });

  it('lets code options win over the environment', () => {
    const { attributes } = detectResource({
      env: {
        OTEL_SERVICE_NAME: 'env',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging,team=a',
      },
      cwd: '/',
      serviceName: 'code',
      serviceVersion: '9.9.9',
      resourceAttributes: { team: 'b' },
    });
    expect(attributes).toMatchObject({
      'service.name': 'code',
      'service.version': '9.9.9',
      'deployment.environment.name': 'staging',
      team: 'b',
    });
  });

  it('lets resourceAttributes["service.name"] in code win over OTEL_SERVICE_NAME', () => {
    const { attributes } = detectResource({
      env: { OTEL_SERVICE_NAME: 'env' },
      cwd: '/',
      resourceAttributes: { 'service.name': 'code' },
    });
    expect(attributes['service.name']).toBe('code');
  });

  it('percent-decodes OTEL_RESOURCE_ATTRIBUTES and trims keys and values', () => {
    const { attributes } = detectResource({
      env: { OTEL_RESOURCE_ATTRIBUTES: ' team = pay%2Cments , note=a%3Db%20c,empty=' },
      cwd: '/',
    });
    expect(attributes).toMatchObject({ team: 'pay,ments', note: 'a=b c', empty: '' });
  });

  it('warns of a malformed OTEL_RESOURCE_ATTRIBUTES, naming the entry, and ignores the variable', () => {
    const cases: [string, string][] = [
      ['a=1,oops', 'OTEL_RESOURCE_ATTRIBUTES: expected comma-separated key=value pairs; entry 2 has no key='],
      ['=v', 'OTEL_RESOURCE_ATTRIBUTES'],
      ['a=%E0%A4%A', 'OTEL_RESOURCE_ATTRIBUTES: invalid percent-encoding in entry 1 (expected %XX escapes)'],
    ];
    for (const [value, message] of cases) {
      const warnings: string[] = [];
      const resource = detectResource({
        env: { OTEL_RESOURCE_ATTRIBUTES: value },
        cwd: '/',
        warn: (warning) => warnings.push(warning),
      });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(message);
      expect(resource.attributes['a']).toBeUndefined();
      expect(resource.attributes['service.name']).toBe('unknown_service:node');
    }
  });
});

describe('parseKeyValueList', () => {
  it('keeps the last value for a repeated key and ignores empty entries', () => {
    expect(parseKeyValueList('a=1,,a=2, ,b=x=y', 'X')).toEqual({ a: '2', b: 'x=y' });
  });
});
