import type { IncomingMessage, ServerResponse } from 'node:http';
import { COMMON_HEADERS, fromBrowserPage, type RequestGuard, refuseMisdirected } from '../request-guard.js';
import type { DecodedSpans } from '../span-record.js';
import { decodeOtlpJson } from './otlp-json-decode.js';
import { decodeOtlpProto } from './otlp-proto-decode.js';
import { exportResponse, type OtlpEncoding, statusResponse } from './otlp-response.js';
import { otlpToRecords } from './otlp-to-records.js';
import { mediaType, ReceiverError, readBody } from './read-body.js';
import { decodeZipkinJson } from './zipkin-decode.js';

export const OTLP_PATH = '/v1/traces';
export const ZIPKIN_PATH = '/api/v2/spans';

export interface ReceiverOptions {
  maxBodyBytes: number;
  /** Which `Host` names are answered (request-guard.ts). */
  guard: RequestGuard;
  /** Stores what a request carried; throws only when storage itself fails. */
  store: (decoded: DecodedSpans) => void;
}

/**
 * One request handler for both receivers: OTLP/HTTP at /v1/traces and Zipkin v2 at /api/v2/spans. A request is
 * decoded completely before anything is stored, so a malformed one stores nothing.
 */
export function createReceiverHandler(
  options: ReceiverOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (!options.guard.hostAllowed(req)) {
      req.resume();
      refuseMisdirected(res);
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0];
    if (fromBrowserPage(req)) {
      // Exporters never send Origin; a web page's POST, which needs no preflight for Zipkin, always does.
      refuse(req, res, 403, 'text/plain', 'the receivers take spans from exporters, not from web pages');
    } else if (path === OTLP_PATH) void receiveOtlp(req, res, options);
    else if (path === ZIPKIN_PATH) void receiveZipkin(req, res, options);
    else reply(res, 404, 'application/json', JSON.stringify({ message: `no receiver at ${path}` }));
  };
}

async function receiveOtlp(
  req: IncomingMessage,
  res: ServerResponse,
  options: ReceiverOptions,
): Promise<void> {
  const type = mediaType(req);
  // OTLP/HTTP spec: binary protobuf is application/x-protobuf, JSON is application/json.
  const encoding: OtlpEncoding | undefined =
    type === 'application/x-protobuf' || type === 'application/protobuf'
      ? 'protobuf'
      : type === 'application/json'
        ? 'json'
        : undefined;
  const contentType = encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json';
  try {
    if (req.method !== 'POST') throw new ReceiverError(405, 'use POST');
    if (encoding === undefined) {
      throw new ReceiverError(
        415,
        `unsupported Content-Type "${type}"; send application/x-protobuf or application/json`,
      );
    }
    const body = await readBody(req, options.maxBodyBytes);
    let decoded: DecodedSpans;
    try {
      decoded = otlpToRecords(
        encoding === 'json' ? decodeOtlpJson(body.toString('utf8')) : decodeOtlpProto(body),
      );
    } catch (error) {
      throw new ReceiverError(400, `not a valid ExportTraceServiceRequest: ${(error as Error).message}`);
    }
    options.store(decoded);
    reply(res, 200, contentType, exportResponse(encoding, decoded.rejected, decoded.rejectReason ?? ''));
  } catch (error) {
    const status = error instanceof ReceiverError ? error.status : 500;
    const message =
      error instanceof ReceiverError ? error.message : `could not store spans: ${(error as Error).message}`;
    refuse(req, res, status, contentType, statusResponse(encoding ?? 'json', message, grpcCode(status)));
  }
}

async function receiveZipkin(
  req: IncomingMessage,
  res: ServerResponse,
  options: ReceiverOptions,
): Promise<void> {
  const type = mediaType(req);
  try {
    if (req.method !== 'POST') throw new ReceiverError(405, 'use POST');
    // Zipkin's collector reads a body without Content-Type as JSON; its proto3 encoding is not supported here.
    if (type !== 'application/json' && type !== '') {
      throw new ReceiverError(
        415,
        `unsupported Content-Type "${type}"; send application/json (Zipkin v2 JSON)`,
      );
    }
    const body = await readBody(req, options.maxBodyBytes);
    let decoded: DecodedSpans;
    try {
      decoded = decodeZipkinJson(body.toString('utf8'));
    } catch (error) {
      throw new ReceiverError(400, (error as Error).message);
    }
    options.store(decoded);
    // zipkin2-api.yaml: POST /spans answers 202 Accepted with no body.
    reply(res, 202, 'text/plain', '');
  } catch (error) {
    const status = error instanceof ReceiverError ? error.status : 500;
    refuse(req, res, status, 'text/plain', (error as Error).message);
  }
}

function grpcCode(status: number): number {
  if (status === 413) return 8; // RESOURCE_EXHAUSTED
  if (status === 500) return 13; // INTERNAL
  if (status === 415 || status === 405) return 12; // UNIMPLEMENTED
  return 3; // INVALID_ARGUMENT
}

function reply(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res
    .writeHead(status, {
      ...COMMON_HEADERS,
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
    })
    .end(body);
}

/**
 * Answers before the body may have been read (415, 413); the connection is closed after the answer so the rest of an
 * unread body is never parsed as the next request, and what is still arriving is drained rather than reset.
 */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
): void {
  if (status === 405) res.setHeader('allow', 'POST');
  if (!req.readableEnded) {
    res.setHeader('connection', 'close');
    req.resume();
  }
  reply(res, status, contentType, body);
}
