import { Baggage, TraceState } from '@tracewire/core';

// What a downstream service may receive from us: only well-formed trace headers within the spec limits, and no
// header value with a control character, CR/LF or a non-ASCII byte in it.

const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
// Sampling state 1, 0 or d (debug), as B3 defines it.
const B3_SINGLE = /^(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[01d]$/;
const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
const SPAN_ID = /^(?!0{16})[0-9a-f]{16}$/;
// Flags 00, 01 (sampled) or 03 (sampled and debug).
const UBER_TRACE_ID = /^(?!0{32})[0-9a-f]{32}:(?!0{16})[0-9a-f]{16}:0:0[013]$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 §5.5 field-value without obs-text: visible ASCII, with SP/HTAB only inside.
const FIELD_VALUE = /^(?:[\x21-\x7e](?:[\x20\x09\x21-\x7e]*[\x21-\x7e])?)?$/;

/** Headers the test app itself sets on its outgoing call, and what Node adds. */
const APP_HEADERS = new Set(['host', 'connection', 'x-app-call']);

const MAX_BAGGAGE_BYTES = 8192;

/** Returns what is wrong with the headers a downstream service received, or an empty list. */
export function downstreamProblems(headers: Record<string, string>): string[] {
  const problems: string[] = [];
  let uberctxBytes = -1;
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) problems.push(`header name ${JSON.stringify(name)} is not a token`);
    if (!FIELD_VALUE.test(value))
      problems.push(`${name}: value ${JSON.stringify(value.slice(0, 200))} has invisible characters`);
    switch (name) {
      case 'traceparent':
        if (!TRACEPARENT.test(value)) problems.push(`traceparent ${JSON.stringify(value)}`);
        break;
      case 'tracestate': {
        const parsed = TraceState.parse(value);
        if (value.length > 512 || parsed === undefined || parsed.size > 32 || parsed.serialize() !== value) {
          problems.push(`tracestate ${JSON.stringify(value)}`);
        }
        break;
      }
      case 'baggage': {
        const parsed = Baggage.parse(value);
        if (value.length > MAX_BAGGAGE_BYTES || parsed.size > 180 || parsed.serialize() !== value) {
          problems.push(`baggage ${JSON.stringify(value.slice(0, 200))} (${value.length} bytes)`);
        }
        break;
      }
      case 'b3':
        if (!B3_SINGLE.test(value)) problems.push(`b3 ${JSON.stringify(value)}`);
        break;
      case 'x-b3-traceid':
        if (!TRACE_ID.test(value)) problems.push(`x-b3-traceid ${JSON.stringify(value)}`);
        break;
      case 'x-b3-spanid':
        if (!SPAN_ID.test(value)) problems.push(`x-b3-spanid ${JSON.stringify(value)}`);
        break;
      case 'x-b3-sampled':
        if (value !== '0' && value !== '1') problems.push(`x-b3-sampled ${JSON.stringify(value)}`);
        break;
      case 'x-b3-flags':
        // Debug, which B3 sends instead of X-B3-Sampled, never along with it.
        if (value !== '1' || headers['x-b3-sampled'] !== undefined) {
          problems.push(`x-b3-flags ${JSON.stringify(value)} with x-b3-sampled ${headers['x-b3-sampled']}`);
        }
        break;
      case 'uber-trace-id':
        if (!UBER_TRACE_ID.test(value)) problems.push(`uber-trace-id ${JSON.stringify(value)}`);
        break;
      default:
        if (name.startsWith('uberctx-')) {
          // Jaeger baggage values are URL-encoded; the set as a whole stays within the W3C baggage byte limit.
          if (!/^[A-Za-z0-9\-_.!~*'()%]*$/.test(value))
            problems.push(`${name} ${JSON.stringify(value.slice(0, 200))}`);
          uberctxBytes += name.length - 'uberctx-'.length + value.length + 2;
        } else if (!APP_HEADERS.has(name)) {
          problems.push(`unexpected header ${name}`);
        }
    }
  }
  if (uberctxBytes > MAX_BAGGAGE_BYTES)
    problems.push(`uberctx-* headers carry ${uberctxBytes} bytes of baggage`);
  if (headers.traceparent !== undefined) {
    const traceId = headers.traceparent.slice(3, 35);
    for (const other of [
      headers['x-b3-traceid'],
      headers.b3?.slice(0, 32),
      headers['uber-trace-id']?.slice(0, 32),
    ]) {
      if (other !== undefined && other !== traceId)
        problems.push(`formats disagree on the trace id: ${other}`);
    }
  }
  return problems;
}

/** Splits the head of an HTTP/1.1 request as written on the wire (latin1, so any byte is visible). */
export function parseRequestHead(raw: string): Record<string, string> {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  const lines = head.split('\r\n').slice(1);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    if (headers[name] !== undefined) headers[`${name} (repeated)`] = line.slice(colon + 1).trim();
    else headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}
