import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** TLS material for an exporter's https:// endpoint, PEM text or bytes (Node's `tls` option names). */
export interface ExporterTlsOptions {
  /** Certificate authorities to trust instead of Node's bundled ones, e.g. a private CA that signed the collector. */
  ca?: string | Buffer | undefined;
  /** Client certificate, for a collector that asks for mutual TLS. Needs `key`. */
  cert?: string | Buffer | undefined;
  /** Private key of `cert`. */
  key?: string | Buffer | undefined;
}

/** What to call each field in an error: option paths (`otlp.tls.ca`) or environment variables. */
export interface TlsNames {
  ca: string;
  cert: string;
  key: string;
}

/**
 * Checks TLS material at configuration time, so a wrong file fails at start-up naming where it came from, instead
 * of every export failing its handshake later: each value is PEM text or bytes that Node can load, and a client
 * certificate comes with its key.
 */
export function checkTls(tls: ExporterTlsOptions, names: TlsNames): ExporterTlsOptions {
  for (const field of ['ca', 'cert', 'key'] as const) {
    const value = tls[field];
    if (value !== undefined && typeof value !== 'string' && !Buffer.isBuffer(value)) {
      throw new TypeError(`${names[field]} must be PEM text (a string or Buffer)`);
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const [given, missing] = tls.cert === undefined ? [names.key, names.cert] : [names.cert, names.key];
    throw new TypeError(`${given} is set without ${missing}: a client certificate needs its private key`);
  }
  if (tls.ca !== undefined) checkCertificates(tls.ca, names.ca);
  if (tls.cert !== undefined) loadable({ cert: tls.cert, key: tls.key }, `${names.cert} / ${names.key}`);
  return tls;
}

function loadable(material: ExporterTlsOptions, name: string): void {
  try {
    createSecureContext(material);
  } catch (error) {
    throw new TypeError(`${name}: not usable as TLS material (${(error as Error).message})`);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Node skips what it cannot parse in `ca` without a word, so each certificate is parsed here. */
function checkCertificates(ca: string | Buffer, name: string): void {
  const blocks = ca.toString('latin1').match(PEM_CERTIFICATE);
  if (blocks === null) throw new TypeError(`${name}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new TypeError(`${name}: not usable as TLS material (${(error as Error).message})`);
    }
  }
}

/** Contents of a PEM file named by an environment variable; a file that cannot be read fails naming the variable. */
export function readPemFile(path: string | undefined, variable: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new TypeError(`${variable}: cannot read ${JSON.stringify(path)} (${(error as Error).message})`);
  }
}
