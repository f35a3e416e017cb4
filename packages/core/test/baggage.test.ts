import { describe, expect, it } from 'vitest';
import { Baggage, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS, w3cBaggage } from '../src/index.js';

const entries = (b: Baggage) => Object.fromEntries(b.entries());

describe('Baggage.parse (W3C Baggage "Definition")', () => {
  it('reads the spec example with properties', () => {
    const b = Baggage.parse(
      'key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue',
    );
    expect(entries(b)).toEqual({
      key1: { value: 'value1', metadata: 'property1;property2' },
      key2: { value: 'value2' },
      key3: { value: 'value3', metadata: 'propertyKey=propertyValue' },
    });
  });

  it('percent-decodes values as UTF-8 ("value": URL-encoded UTF-8)', () => {
    const b = Baggage.parse('serverNode=DF%2028,user=J%C3%BCrgen,isProduction=false');
    expect(b.get('serverNode')?.value).toBe('DF 28');
    expect(b.get('user')?.value).toBe('J\u00fcrgen');
    expect(b.get('isProduction')?.value).toBe('false');
  });

  it('keeps "=" inside a value (parsers must not assume "=" only separates key and value)', () => {
    expect(Baggage.parse('k=a=b==').get('k')?.value).toBe('a=b==');
  });

  it('trims optional whitespace around keys, values and properties', () => {
    const b = Baggage.parse('  userId =   alice  ;  p1 = v1 ;p2  ');
    expect(b.get('userId')).toEqual({ value: 'alice', metadata: 'p1=v1;p2' });
  });

  it('combines several baggage headers', () => {
    const b = Baggage.parse(['userId=alice', 'serverNode=DF%2028,isProduction=false']);
    expect(b.size).toBe(3);
  });

  it('lets a later duplicate key win', () => {
    expect(Baggage.parse('a=1,a=2').get('a')?.value).toBe('2');
  });

  it('accepts an empty value', () => {
    expect(Baggage.parse('a=').get('a')?.value).toBe('');
  });

  it.each([
    ['no "="', 'novalue'],
    ['a key that is not a token', 'a b=1'],
    ['a key with a non-ASCII character', 'k\u00e9=1'],
    ['an empty key', '=1'],
    ['a value with a space inside', 'k=a b'],
    ['a value with a double quote', 'k="v"'],
    ['a value with a backslash', 'k=a\\b'],
    ['a value with a control character', 'k=a\u0001'],
    ['a malformed percent escape', 'k=%zz'],
    ['an invalid property key', 'k=v;a b'],
    ['an empty property', 'k=v;;p'],
  ])('drops a member with %s and keeps the others ("Mutating baggage")', (_why, member) => {
    const b = Baggage.parse(`before=1,${member},after=2`);
    expect([...b.entries()].map(([k]) => k)).toEqual(['before', 'after']);
  });

  it('decodes percent escapes of invalid UTF-8 as U+FFFD and keeps the member ("value": MUST be replaced with U+FFFD)', () => {
    const b = Baggage.parse('before=1,k=%C3%28,latin1=caf%E9,lone=%ED%A0%80x,after=2');
    expect(b.get('k')?.value).toBe('\ufffd(');
    expect(b.get('latin1')?.value).toBe('caf\ufffd');
    expect(b.get('lone')?.value).toBe('\ufffd\ufffd\ufffdx');
    expect([...b.entries()].map(([k]) => k)).toEqual(['before', 'k', 'latin1', 'lone', 'after']);
    expect(b.serialize()).toBe(
      'before=1,k=%EF%BF%BD(,latin1=caf%EF%BF%BD,lone=%EF%BF%BD%EF%BF%BD%EF%BF%BDx,after=2',
    );
  });

  it('never throws on garbage', () => {
    for (const header of ['', ',,,', ';;;', '===', '%', '\r\n', 'a=b;c=d;=;', '\u0000']) {
      expect(() => Baggage.parse(header)).not.toThrow();
    }
    expect(Baggage.parse(undefined).size).toBe(0);
  });
});

describe('Baggage limits: 180 members, 8192 bytes ("Limits"), trimmed, never thrown', () => {
  it('keeps the first 180 members and drops the rest', () => {
    const header = Array.from({ length: 200 }, (_, i) => `k${i}=v`).join(',');
    const b = Baggage.parse(header);
    expect(b.size).toBe(MAX_BAGGAGE_MEMBERS);
    expect(b.get('k179')).toBeDefined();
    expect(b.get('k180')).toBeUndefined();
  });

  it('leaves out members that would take the header past 8192 bytes', () => {
    const big = 'x'.repeat(4000);
    const b = Baggage.parse(`a=${big},b=${big},c=${big},d=small`);
    expect(b.get('a')).toBeDefined();
    expect(b.get('b')).toBeDefined();
    expect(b.get('c')).toBeUndefined();
    expect(b.get('d')?.value).toBe('small');
    expect(b.serialize().length).toBeLessThanOrEqual(MAX_BAGGAGE_BYTES);
  });

  it('serializes at most 8192 bytes even when values grow by encoding', () => {
    let b = Baggage.empty();
    for (let i = 0; i < 10; i++) b = b.set(`k${i}`, '\u00e9'.repeat(500));
    expect(b.size).toBe(10);
    expect(b.serialize().length).toBeLessThanOrEqual(MAX_BAGGAGE_BYTES);
    expect(Baggage.parse(b.serialize()).size).toBeGreaterThan(0);
  });

  it('does not add a 181st member with set', () => {
    let b = Baggage.empty();
    for (let i = 0; i < 181; i++) b = b.set(`k${i}`, 'v');
    expect(b.size).toBe(MAX_BAGGAGE_MEMBERS);
    expect(b.set('k0', 'updated').get('k0')?.value).toBe('updated');
  });
});

describe('Baggage is immutable', () => {
  const base = Baggage.parse('a=1,b=2');

  it('set returns a new baggage and leaves the old one alone', () => {
    const next = base.set('c', '3', 'p=1');
    expect(next.get('c')).toEqual({ value: '3', metadata: 'p=1' });
    expect(base.get('c')).toBeUndefined();
  });

  it('delete removes a key', () => {
    expect(base.delete('a').get('a')).toBeUndefined();
    expect(base.get('a')?.value).toBe('1');
    expect(base.delete('missing')).toBe(base);
  });

  it('ignores an invalid key or metadata instead of throwing', () => {
    expect(base.set('bad key', 'v')).toBe(base);
    expect(base.set('k', 'v', 'bad key')).toBe(base);
  });

  it('ignores a value with a lone surrogate, which has no UTF-8 form to percent-encode', () => {
    expect(base.set('k', 'a\ud800b')).toBe(base);
    expect(base.set('k', '\udc00')).toBe(base);
    expect(base.set('k', '\ud83d\ude00').get('k')?.value).toBe('\ud83d\ude00');
  });

  it('merge lets the argument win on equal keys', () => {
    const merged = base.merge(Baggage.parse('b=3,c=4'));
    expect(entries(merged)).toEqual({ a: { value: '1' }, b: { value: '3' }, c: { value: '4' } });
  });

  it('builds from a plain object', () => {
    expect(Baggage.from({ a: '1', b: { value: '2', metadata: 'p' } }).serialize()).toBe('a=1,b=2;p');
  });
});

describe('Baggage.serialize', () => {
  it('percent-encodes every character outside baggage-octet', () => {
    const b = Baggage.empty().set('k', 'a b,c;d\\e"f\u00e9%\r\n');
    const header = b.serialize();
    expect(header).toBe('k=a%20b%2Cc%3Bd%5Ce%22f%C3%A9%25%0D%0A');
    expect(Baggage.parse(header).get('k')?.value).toBe('a b,c;d\\e"f\u00e9%\r\n');
  });

  it('writes metadata after the value', () => {
    expect(Baggage.parse('k=v;p1;p2=x').serialize()).toBe('k=v;p1;p2=x');
  });
});

describe('w3cBaggage propagator', () => {
  it('extracts the baggage header', () => {
    expect(w3cBaggage.extract({ baggage: 'userId=alice' }).baggage?.get('userId')?.value).toBe('alice');
  });

  it('extracts nothing from an absent or empty header', () => {
    expect(w3cBaggage.extract({})).toEqual({});
    expect(w3cBaggage.extract({ baggage: 'garbage' })).toEqual({});
  });

  it('injects the serialized baggage', () => {
    const carrier: Record<string, string> = {};
    w3cBaggage.inject({ baggage: Baggage.from({ userId: 'alice', node: 'DF 28' }) }, carrier);
    expect(carrier).toEqual({ baggage: 'userId=alice,node=DF%2028' });
  });

  it('injects nothing for empty baggage', () => {
    const carrier: Record<string, string> = {};
    w3cBaggage.inject({ baggage: Baggage.empty() }, carrier);
    w3cBaggage.inject({}, carrier);
    expect(carrier).toEqual({});
  });
});
