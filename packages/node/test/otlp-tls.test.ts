import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { OtlpHttpExporter } from '../src/exporters/otlp-http-exporter.js';
import { ZipkinExporter } from '../src/exporters/zipkin.js';
import { makeSpan } from './fixtures/spans.js';

// A collector behind TLS with a private CA (the fixture certificate is its own CA, for 127.0.0.1), and one that
// also asks for a client certificate: what OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY are
// for.

const fixtures = fileURLToPath(new URL('../../../test/fixtures/outgoing/', import.meta.url));
const certPath = `${fixtures}cert.pem`;
const keyPath = `${fixtures}key.pem`;
const cert = readFileSync(certPath);
const key = readFileSync(keyPath);

interface TlsCollector {
  base: string;
  /** Requests that got through the handshake, with the client certificate's subject when one was sent. */
  received: { url: string; clientSubject: string | undefined }[];
  close(): Promise<void>;
}

const collectors: TlsCollector[] = [];
afterEach(async () => {
  await Promise.all(collectors.splice(0).map((c) => c.close()));
});

async function collector(mutual = false): Promise<TlsCollector> {
  const received: TlsCollector['received'] = [];
  const server = https.createServer(
    { cert, key, ...(mutual ? { ca: cert, requestCert: true, rejectUnauthorized: true } : {}) },
    (req, res) => {
      const subject = (req.socket as TLSSocket).getPeerCertificate()?.subject?.CN;
      received.push({ url: req.url ?? '', clientSubject: Array.isArray(subject) ? subject[0] : subject });
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const started: TlsCollector = {
    base: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  collectors.push(started);
  return started;
}

/** The OTLP exporter `configure()` would build from these variables. */
function exporterFromEnv(env: NodeJS.ProcessEnv): OtlpHttpExporter {
  const spec = resolveConfig({ exporters: 'otlp' }, env).exporters[0];
  if (spec?.kind !== 'otlp') throw new Error('no otlp exporter configured');
  return new OtlpHttpExporter({ ...spec.options, retry: { maxAttempts: 1 }, warn: () => {} });
}

describe('OTLP over TLS', () => {
  it('trusts the CA named by OTEL_EXPORTER_OTLP_CERTIFICATE', async () => {
    const c = await collector();
    const exporter = exporterFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: c.base,
      OTEL_EXPORTER_OTLP_CERTIFICATE: certPath,
    });
    expect((await exporter.export([makeSpan()])).code).toBe(0);
    expect(c.received.map((r) => r.url)).toEqual(['/v1/traces']);
    await exporter.shutdown();
  });

  it('fails the export, not the app, when the collector certificate is not trusted', async () => {
    const c = await collector();
    const exporter = exporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: c.base });
    const result = await exporter.export([makeSpan()]);
    expect(result.code).toBe(1);
    expect(c.received).toHaveLength(0);
    await exporter.shutdown();
  });

  it('presents the client certificate and key the TRACES_ variables name to a collector that asks (mutual TLS)', async () => {
    const c = await collector(true);
    const exporter = exporterFromEnv({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${c.base}/v1/traces`,
      OTEL_EXPORTER_OTLP_CERTIFICATE: certPath,
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: certPath,
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: keyPath,
    });
    expect((await exporter.export([makeSpan()])).code).toBe(0);
    expect(c.received).toEqual([{ url: '/v1/traces', clientSubject: 'localhost' }]);
    await exporter.shutdown();

    const anonymous = exporterFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: c.base,
      OTEL_EXPORTER_OTLP_CERTIFICATE: certPath,
    });
    expect((await anonymous.export([makeSpan()])).code).toBe(1);
    expect(c.received).toHaveLength(1);
    await anonymous.shutdown();
  });

  it("reports a collector's TLS refusal in OpenSSL's words, on one line", async () => {
    const c = await collector(true);
    const anonymous = exporterFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: c.base,
      OTEL_EXPORTER_OTLP_CERTIFICATE: certPath,
    });
    const result = await anonymous.export([makeSpan()]);
    // Node 20: "…:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…\n".
    expect(result.error?.message).toMatch(/alert certificate required/);
    expect(result.error?.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    await anonymous.shutdown();
  });

  it('takes PEM text from code options, field by field over the files', async () => {
    const c = await collector(true);
    const spec = resolveConfig(
      { exporters: 'otlp', otlp: { endpoint: c.base, tls: { cert: cert.toString(), key: key.toString() } } },
      { OTEL_EXPORTER_OTLP_CERTIFICATE: certPath },
    ).exporters[0];
    if (spec?.kind !== 'otlp') throw new Error('no otlp exporter configured');
    expect(spec.options.tls?.ca).toEqual(cert);
    const exporter = new OtlpHttpExporter({ ...spec.options, retry: { maxAttempts: 1 } });
    expect((await exporter.export([makeSpan()])).code).toBe(0);
    expect(c.received[0]?.clientSubject).toBe('localhost');
    await exporter.shutdown();
  });

  it('gives the Zipkin exporter the same option', async () => {
    const c = await collector();
    const exporter = new ZipkinExporter({
      url: `${c.base}/api/v2/spans`,
      tls: { ca: cert },
      retry: { maxAttempts: 1 },
    });
    expect((await exporter.export([makeSpan()])).code).toBe(0);
    expect(c.received.map((r) => r.url)).toEqual(['/api/v2/spans']);
    await exporter.shutdown();
  });
});

describe('TLS configuration errors, at start-up', () => {
  // From the environment: warned of and ignored (the exporter then uses the system's CAs and no client certificate).
  it.each([
    [
      'a file that cannot be read, naming the variable',
      { OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem' },
      /OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read "\/nonexistent\/ca.pem"/,
    ],
    [
      'a file that is not a certificate',
      { OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: keyPath.replace('key.pem', 'app.mjs') },
      'OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: no PEM certificate',
    ],
    [
      'a client certificate without its key',
      { OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certPath },
      'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE is set without OTEL_EXPORTER_OTLP_CLIENT_KEY',
    ],
    [
      'a key that does not belong to the certificate',
      { OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certPath, OTEL_EXPORTER_OTLP_CLIENT_KEY: certPath },
      /OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE \/ OTEL_EXPORTER_OTLP_CLIENT_KEY: not usable as TLS material/,
    ],
  ])('%s', (_name, env, message) => {
    const warnings: string[] = [];
    const config = resolveConfig({}, env, (warning) => warnings.push(warning));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(message);
    expect(config.exporters).toEqual([
      { kind: 'otlp', options: expect.not.objectContaining({ tls: expect.anything() }) },
    ]);
  });

  it('keeps a usable CA when the client certificate next to it cannot be used, and the other way round', () => {
    const warnings: string[] = [];
    const withCa = resolveConfig(
      {},
      { OTEL_EXPORTER_OTLP_CERTIFICATE: certPath, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certPath },
      (warning) => warnings.push(warning),
    );
    expect(withCa.exporters).toEqual([
      {
        kind: 'otlp',
        options: expect.objectContaining({ tls: { ca: cert, cert: undefined, key: undefined } }),
      },
    ]);
    const withClient = resolveConfig(
      {},
      {
        OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem',
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certPath,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: keyPath,
      },
      (warning) => warnings.push(warning),
    );
    expect(withClient.exporters).toEqual([
      { kind: 'otlp', options: expect.objectContaining({ tls: { ca: undefined, cert, key } }) },
    ]);
    expect(warnings).toEqual([
      'tracewire: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE is set without OTEL_EXPORTER_OTLP_CLIENT_KEY: a client certificate needs its private key; no client certificate is sent.',
      expect.stringMatching(
        /^tracewire: OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read "\/nonexistent\/ca.pem" .*; the default trusted CAs are used\.$/,
      ),
    ]);
  });

  it('names the code option that is wrong', () => {
    expect(() => resolveConfig({ otlp: { tls: { key: key.toString() } } }, {})).toThrow(
      'otlp.tls.key is set without otlp.tls.cert',
    );
    expect(() => resolveConfig({ exporters: 'zipkin', zipkin: { tls: { ca: 42 as never } } }, {})).toThrow(
      'zipkin.tls.ca must be PEM text',
    );
    expect(() => new ZipkinExporter({ tls: { ca: 'not a certificate' } })).toThrow(
      'tls.ca: no PEM certificate',
    );
  });
});
