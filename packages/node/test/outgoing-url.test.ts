import { describe, expect, it } from 'vitest';
import { splitAuthority } from '../src/outgoing-url.js';

describe('splitAuthority', () => {
  it.each([
    ['example.test:8080', 'example.test', 8080],
    ['example.test', 'example.test', undefined],
    ['127.0.0.1:3000', '127.0.0.1', 3000],
    ['[::1]:8443', '[::1]', 8443],
    ['[::1]', '[::1]', undefined],
    ['[2001:db8::1]', '[2001:db8::1]', undefined],
    // Node writes `host:port` without brackets for an IPv6 host: its last colon is the port's.
    ['::1:8080', '::1', 8080],
    ['example.test:', 'example.test', undefined],
    ['example.test:0', 'example.test', undefined],
    ['example.test:http', 'example.test', undefined],
    ['', '', undefined],
  ])('splits %j into host %j and port %j', (authority, host, port) => {
    expect(splitAuthority(authority)).toEqual({ host, port });
  });
});
