// HTTP semantic conventions (stable), http.request.method: the "known" methods are those of RFC 9110 §9 plus PATCH
// (RFC 5789); any other becomes `_OTHER`. Server and client spans share this list, so both ends of one call
// report its method alike.
export const KNOWN_HTTP_METHODS: ReadonlySet<string> = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);
