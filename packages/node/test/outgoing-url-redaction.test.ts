import { describe, expect, it } from 'vitest';
import { resolveOutgoingOptions } from '../src/outgoing-options.js';
import { createUrlRedactor, redactQueryString, redactUrl } from '../src/url-redaction.js';

describe('redactUrl', () => {
  it('strips userinfo', () => {
    expect(redactUrl('https://ann:hunter2@api.example.com/x')).toBe('https://api.example.com/x');
    expect(redactUrl(new URL('http://ann@api.example.com:8080/'))).toBe('http://api.example.com:8080/');
    // Up to the authority's last @: a password may hold one unescaped; with no path, the authority runs to the end.
    expect(redactUrl('https://ann:p@ss@api.example.com/x@y')).toBe('https://api.example.com/x@y');
    expect(redactUrl('http://ann:p@ss@api.example.com')).toBe('http://api.example.com');
  });

  it('keeps an @ that is part of the path or query', () => {
    expect(redactUrl('https://api.example.com/users/@ann?to=a@b.c')).toBe(
      'https://api.example.com/users/@ann?to=a@b.c',
    );
  });

  it("redacts the semantic conventions' keys", () => {
    expect(
      redactUrl('https://s3.example.com/o?AWSAccessKeyId=A&Signature=S&sig=x&X-Goog-Signature=g&v=1'),
    ).toBe(
      'https://s3.example.com/o?AWSAccessKeyId=REDACTED&Signature=REDACTED&sig=REDACTED&X-Goog-Signature=REDACTED&v=1',
    );
  });

  it.each([
    'access_token',
    'api_key',
    'apiKey',
    'client_secret',
    'password',
    'X-Amz-Signature',
    'auth',
    'sessionId',
    'jwt',
    'authToken',
    'X-Amz-Security-Token',
    'accesstoken',
    'apikey',
    'refresh-token',
    'passwordHash',
    'x-api-key',
    'authorization',
    'JSESSIONID',
    'PHPSESSID',
    'ticket',
    'SAMLResponse',
    'client_assertion',
  ])('redacts %s by pattern', (key) => {
    expect(redactUrl(`https://h/p?${key}=v&page=2`)).toBe(`https://h/p?${key}=REDACTED&page=2`);
  });

  it.each(['keyword', 'author', 'sessions', 'tokens_used', 'keys_count', 'authority_id'])(
    'keeps %s, whose words name no credential, as sent',
    (key) => {
      expect(redactUrl(`https://h/p?${key}=shoes`)).toBe(`https://h/p?${key}=shoes`);
    },
  );

  it('redacts sensitive path parameters (the session id servlet containers write into URLs), keeping others', () => {
    expect(redactUrl('https://h/cart;jsessionid=ABC123/items;v=2?x=1#f')).toBe(
      'https://h/cart;jsessionid=REDACTED/items;v=2?x=1#f',
    );
    expect(redactUrl('https://h/a;b/c')).toBe('https://h/a;b/c');
    expect(createUrlRedactor().path('/users/1;JSESSIONID=S;lang=en')).toBe(
      '/users/1;JSESSIONID=REDACTED;lang=en',
    );
    expect(createUrlRedactor({ redactQuery: 'none' }).path('/x;jsessionid=S')).toBe('/x;jsessionid=S');
  });

  it('matches percent-encoded keys after decoding and keeps the fragment', () => {
    expect(redactUrl('https://h/p?access%5Ftoken=v#frag')).toBe('https://h/p?access%5Ftoken=REDACTED#frag');
  });

  it('keeps keys without values, empty pairs and ordinary values', () => {
    expect(redactUrl('https://h/p?flag&&q=search&page=2')).toBe('https://h/p?flag&&q=search&page=2');
  });

  it("redacts every value with 'all' and none with 'none'", () => {
    expect(redactUrl('https://u:p@h/p?q=1&token=2', { redactQuery: 'all' })).toBe(
      'https://h/p?q=REDACTED&token=REDACTED',
    );
    expect(redactUrl('https://u:p@h/p?q=1&token=2', { redactQuery: 'none' })).toBe('https://h/p?q=1&token=2');
  });

  it('adds configured keys and patterns to the defaults', () => {
    const redactor = createUrlRedactor({ sensitiveQueryKeys: ['Email', /^x-private-/i] });
    expect(redactor.url('https://h/?email=a&X-Private-id=b&token=c&q=d')).toBe(
      'https://h/?email=REDACTED&X-Private-id=REDACTED&token=REDACTED&q=d',
    );
  });

  it('rejects invalid options naming the option', () => {
    expect(() => createUrlRedactor({ redactQuery: 'yes' as 'all' })).toThrow(RangeError);
    expect(() => createUrlRedactor({ sensitiveQueryKeys: [1 as unknown as string] })).toThrow(
      /sensitiveQueryKeys/,
    );
  });
});

describe('redactQueryString', () => {
  it('redacts a raw query for url.query', () => {
    expect(redactQueryString('page=1&session=abc')).toBe('page=1&session=REDACTED');
    expect(redactQueryString('')).toBe('');
  });
});

describe('destination rules', () => {
  const at = (url: string) => {
    const u = new URL(url);
    const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
    return { hostname: u.hostname.replace(/^\[|\]$/g, ''), port, url };
  };

  it('propagates everywhere by default', () => {
    expect(resolveOutgoingOptions().shouldPropagate(at('https://api.stripe.com/v1'))).toBe(true);
  });

  it('matches hosts, host:port, wildcards, URL prefixes and RegExps', () => {
    const { shouldPropagate } = resolveOutgoingOptions({
      doNotPropagateTo: [
        'api.stripe.com',
        'internal:8443',
        '*.thirdparty.io',
        'https://h.example/private/',
        /\?x=/,
      ],
    });
    expect(shouldPropagate(at('https://API.STRIPE.COM/v1'))).toBe(false);
    expect(shouldPropagate(at('https://internal:8443/'))).toBe(false);
    expect(shouldPropagate(at('https://internal:9000/'))).toBe(true);
    expect(shouldPropagate(at('https://a.b.thirdparty.io/'))).toBe(false);
    expect(shouldPropagate(at('https://thirdparty.io/'))).toBe(true);
    expect(shouldPropagate(at('https://h.example/private/x'))).toBe(false);
    expect(shouldPropagate(at('https://h.example/public'))).toBe(true);
    expect(shouldPropagate(at('https://h.example/p?x=1'))).toBe(false);
  });

  it('judges a fully qualified host name (a trailing dot) as the host it reaches', () => {
    const { shouldPropagate } = resolveOutgoingOptions({
      doNotPropagateTo: ['api.partner.example', '*.thirdparty.example', 'https://h.example'],
    });
    expect(shouldPropagate(at('https://api.partner.example./v1'))).toBe(false);
    expect(shouldPropagate(at('https://x.thirdparty.example./'))).toBe(false);
    expect(shouldPropagate(at('https://h.example./p'))).toBe(false);
    expect(shouldPropagate(at('https://other.example./p'))).toBe(true);
  });

  it('reads a URL prefix that ends in the host as that host (and port), not as the start of a longer name', () => {
    const { shouldPropagate } = resolveOutgoingOptions({
      propagateTo: ['http://inventory.internal', 'http://api:80'],
    });
    expect(shouldPropagate(at('http://inventory.internal/items'))).toBe(true);
    expect(shouldPropagate(at('http://inventory.internal:8080/items'))).toBe(true);
    expect(shouldPropagate(at('http://inventory.internal?q=1'))).toBe(true);
    expect(shouldPropagate(at('http://inventory.internal.attacker.example/'))).toBe(false);
    expect(shouldPropagate(at('http://inventory.internalx.example/'))).toBe(false);
    expect(shouldPropagate(at('http://api:80/x'))).toBe(true);
    expect(shouldPropagate(at('http://api:8000/x'))).toBe(false);
  });

  it('lets doNotPropagateTo win over propagateTo', () => {
    const { shouldPropagate } = resolveOutgoingOptions({
      propagateTo: ['*.svc.local'],
      doNotPropagateTo: ['legacy.svc.local'],
    });
    expect(shouldPropagate(at('http://orders.svc.local/'))).toBe(true);
    expect(shouldPropagate(at('http://legacy.svc.local/'))).toBe(false);
    expect(shouldPropagate(at('https://example.com/'))).toBe(false);
  });

  it('understands IPv6 hosts', () => {
    const { shouldPropagate } = resolveOutgoingOptions({ doNotPropagateTo: ['[::1]:8080', '::2'] });
    expect(shouldPropagate(at('http://[::1]:8080/'))).toBe(false);
    expect(shouldPropagate(at('http://[::1]:9090/'))).toBe(true);
    expect(shouldPropagate(at('http://[::2]/'))).toBe(false);
  });

  it('rejects invalid rules naming the option', () => {
    expect(() => resolveOutgoingOptions({ propagateTo: [''] })).toThrow(/propagateTo/);
    expect(() => resolveOutgoingOptions({ doNotPropagateTo: ['h:99999'] })).toThrow(RangeError);
    expect(() => resolveOutgoingOptions({ doNotPropagateTo: [42 as unknown as string] })).toThrow(TypeError);
  });
});
