import { describe, expect, it } from 'vitest';
import { TraceState } from '../src/index.js';
import { isValidTraceStateKey, isValidTraceStateValue } from '../src/trace-state.js';

const members = (n: number, value = 'v') => Array.from({ length: n }, (_, i) => `k${i}=${value}`).join(',');

describe('TraceState key grammar (W3C Trace Context Level 2 §3.3.2.2.1; every Level 1 key included)', () => {
  it.each([
    ['one letter', 'a'],
    ['a vendor name', 'congo'],
    ['every keychar', 'a0_-*/'],
    ['256 characters', 'z'.repeat(256)],
    ['tenant@system', 'tenant@system'],
    ['a tenant starting with a digit', '0tenant@sys'],
    ['a 241-character tenant', `${'t'.repeat(241)}@s`],
    ['a 14-character system', 'a@abcdefghijklmn'],
    // Level 2 only: a digit first, "@" anywhere after the first character, 256 characters in all.
    ['a digit first, without a tenant', '0abc'],
    ['an at sign last', 'tenant@'],
    ['a digit after an at sign', 'tenant@0sys'],
    ['a 15-character part after an at sign', 'tenant@abcdefghijklmno'],
    ['a 242-character part before an at sign', `${'t'.repeat(242)}@s`],
    ['two at signs', 'a@b@c'],
  ])('accepts a key of %s', (_why, key) => {
    expect(isValidTraceStateKey(key)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['uppercase', 'Congo'],
    ['longer than 256 characters', 'z'.repeat(257)],
    ['a space', 'a b'],
    ['a dot', 'a.b'],
    ['an at sign first (empty tenant)', '@system'],
    ['uppercase after an at sign', 'tenant@Sys'],
  ])('rejects a key with %s', (_why, key) => {
    expect(isValidTraceStateKey(key)).toBe(false);
  });
});

describe('TraceState forwarding', () => {
  it('keeps and forwards entries whose keys only Level 2 allows, with the rest of the list', () => {
    // Before: one such key made the whole header invalid, and nothing was forwarded.
    const header = 'rojo=00f067aa0ba902b7,1abc=1,foo@bar@baz=2,congo=t61rcWkgMzE';
    expect(TraceState.parse(header)?.serialize()).toBe(header);
    expect(TraceState.empty().set('1abc', 'v').get('1abc')).toBe('v');
  });
});

describe('TraceState value grammar (W3C Trace Context §3.3.1.3.2)', () => {
  it.each([
    ['base64', 't61rcWkgMzE'],
    ['leading spaces', ' leading spaces kept'],
    ['256 characters', 'x'.repeat(256)],
    ['every printable character but "," and "="', '!"#$%&\'()*+-./:;<>?@[\\]^_`{|}~'],
  ])('accepts a value of %s', (_why, value) => {
    expect(isValidTraceStateValue(value)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['a comma', 'a,b'],
    ['an equals sign', 'a=b'],
    ['a trailing space', 'ab '],
    ['a tab', 'a\tb'],
    ['a newline', 'a\nb'],
    ['non-ASCII', 'caf\u00e9'],
    ['257 characters', 'x'.repeat(257)],
  ])('rejects a value with %s', (_why, value) => {
    expect(isValidTraceStateValue(value)).toBe(false);
  });
});

describe('TraceState.parse (W3C Trace Context §3.3.1.3)', () => {
  it('keeps list order', () => {
    const ts = TraceState.parse('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')!;
    expect([...ts.entries()]).toEqual([
      ['rojo', '00f067aa0ba902b7'],
      ['congo', 't61rcWkgMzE'],
    ]);
    expect(ts.size).toBe(2);
  });

  it('ignores optional whitespace around members and empty members', () => {
    const ts = TraceState.parse(' , rojo=1 ,\t,congo=2\t, ')!;
    expect(ts.serialize()).toBe('rojo=1,congo=2');
  });

  it('writes a header with an empty first or last member without it', () => {
    expect(TraceState.parse('rojo=1,congo=2,')!.serialize()).toBe('rojo=1,congo=2');
    expect(TraceState.parse(',rojo=1')!.serialize()).toBe('rojo=1');
    expect(TraceState.parse('rojo=1,,congo=2')!.serialize()).toBe('rojo=1,congo=2');
  });

  it('keeps leading spaces of a value as part of it', () => {
    expect(TraceState.parse('a=  x')!.get('a')).toBe('  x');
  });

  it('returns undefined for an absent, empty or whitespace-only header (nothing to propagate)', () => {
    expect(TraceState.parse(undefined)).toBeUndefined();
    expect(TraceState.parse('')).toBeUndefined();
    expect(TraceState.parse(' , ,')).toBeUndefined();
  });

  it('accepts exactly 32 members', () => {
    expect(TraceState.parse(members(32))?.size).toBe(32);
  });

  it('discards a header with 33 members (§3.3.1.3: at most 32 list-members)', () => {
    expect(TraceState.parse(members(33))).toBeUndefined();
  });

  it('discards a header with a duplicate key (§3.3.1.4: only one entry per key)', () => {
    expect(TraceState.parse('a=1,b=2,a=3')).toBeUndefined();
  });

  it.each(['a', 'a=', '=b', 'A=b', 'a=b=c', 'a=b,c', 'a=b\r\n,c=d'])(
    'discards the whole header %j',
    (header) => {
      expect(TraceState.parse(header)).toBeUndefined();
    },
  );

  it('combines several header values with a comma (§3.3.1.3, RFC 7230 §3.2.2)', () => {
    expect(TraceState.parse(['a=1', 'b=2,c=3'])!.serialize()).toBe('a=1,b=2,c=3');
  });

  it('counts members across combined headers', () => {
    expect(TraceState.parse([members(20), members(13).replaceAll('k', 'j')])).toBeUndefined();
  });
});

describe('TraceState limits and truncation (W3C Trace Context §3.3.1.5)', () => {
  it('keeps a combined header of exactly 512 characters', () => {
    const header = Array.from({ length: 7 }, (_, i) => `k${i}=${'v'.repeat(60)}`).join(',');
    const padded = `${header},z=${'w'.repeat(512 - header.length - 3)}`;
    expect(padded.length).toBe(512);
    expect(TraceState.parse(padded)!.serialize()).toBe(padded);
  });

  it('removes entries longer than 128 characters first', () => {
    const long = `big=${'x'.repeat(200)}`;
    const small = Array.from({ length: 20 }, (_, i) => `k${i}=${'v'.repeat(12)}`).join(',');
    const ts = TraceState.parse(`${long},${small}`)!;
    expect(ts.get('big')).toBeUndefined();
    expect(ts.size).toBe(20);
    expect(ts.serialize()).toBe(small);
  });

  it('then removes entries from the end until the header fits', () => {
    const header = Array.from(
      { length: 30 },
      (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(26)}`,
    ).join(',');
    expect(header.length).toBe(30 * 30 + 29);
    const ts = TraceState.parse(header)!;
    expect(ts.serialize().length).toBeLessThanOrEqual(512);
    expect(ts.size).toBe(16);
    expect(ts.get('k00')).toBeDefined();
    expect(ts.get('k15')).toBeDefined();
    expect(ts.get('k16')).toBeUndefined();
  });

  it('keeps short entries even when removing long ones alone does not suffice', () => {
    const longs = Array.from({ length: 3 }, (_, i) => `l${i}=${'x'.repeat(150)}`);
    const shorts = Array.from({ length: 25 }, (_, i) => `s${String(i).padStart(2, '0')}=${'v'.repeat(20)}`);
    const ts = TraceState.parse([...shorts.slice(0, 10), ...longs, ...shorts.slice(10)].join(','))!;
    expect([...ts.entries()].some(([k]) => k.startsWith('l'))).toBe(false);
    expect(ts.serialize().length).toBeLessThanOrEqual(512);
    expect(ts.get('s00')).toBeDefined();
  });
});

describe('TraceState mutation (W3C Trace Context §3.5)', () => {
  const base = TraceState.parse('rojo=1,congo=2')!;

  it('is immutable: set returns a new state and leaves the old one alone', () => {
    const next = base.set('new', 'x');
    expect(next).not.toBe(base);
    expect(base.serialize()).toBe('rojo=1,congo=2');
  });

  it('adds a new key at the front', () => {
    expect(base.set('new', 'x').serialize()).toBe('new=x,rojo=1,congo=2');
  });

  it('moves an updated key to the front', () => {
    expect(base.set('congo', '3').serialize()).toBe('congo=3,rojo=1');
  });

  it('deletes a key with unset', () => {
    expect(base.unset('rojo').serialize()).toBe('congo=2');
    expect(base.unset('absent')).toBe(base);
  });

  it('drops the rightmost member when a 33rd is added', () => {
    const full = TraceState.parse(members(32))!;
    const next = full.set('new', 'x');
    expect(next.size).toBe(32);
    expect(next.get('new')).toBe('x');
    expect(next.get('k31')).toBeUndefined();
  });

  it('ignores an invalid key or value instead of throwing', () => {
    expect(base.set('Bad', 'x')).toBe(base);
    expect(base.set('ok', 'a,b')).toBe(base);
    expect(base.set('ok', 'line\nbreak')).toBe(base);
  });

  it('starts from an empty state', () => {
    expect(TraceState.empty().size).toBe(0);
    expect(TraceState.empty().set('a', 'b').serialize()).toBe('a=b');
  });
});
