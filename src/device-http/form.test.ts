import { describe, expect, it } from 'vitest';
import { encodeForm, parseForm } from './form.js';
import { httpDate, recordValues, requestTimeout, sinceMicros } from './stack-request.js';

describe('form parsing', () => {
  it('keeps order and repeats, decodes + and %-escapes, and gives a bare name the empty value', () => {
    expect(parseForm('alias=a&1=x+y&1=%C3%A9%26&flag&=v&&b=c=d', 'body')).toEqual([
      ['alias', 'a'],
      ['1', 'x y'],
      ['1', 'é&'],
      ['flag', ''],
      ['', 'v'],
      ['b', 'c=d'],
    ]);
    expect(parseForm('', 'body')).toEqual([]);
  });

  it('refuses an escape that does not decode, naming where it was', () => {
    expect(() => parseForm('a=%zz', 'body')).toThrow(/body/);
    expect(() => parseForm('a=%C3', 'query')).toThrow(/query/);
  });

  it('stays linear on a megabyte of separators', () => {
    expect(parseForm('&'.repeat(1024 * 1024), 'body')).toEqual([]);
    expect(parseForm('a&'.repeat(512 * 1024), 'body')).toHaveLength(512 * 1024);
  });

  it('encodes what URLSearchParams decodes back to the same values', () => {
    const values = { 'a b': 'x&y=z', n: 21.5, yes: true, text: 'é +%' };
    const decoded = Object.fromEntries(new URLSearchParams(encodeForm(values)));
    expect(decoded).toEqual({ 'a b': 'x&y=z', n: '21.5', yes: 'true', text: 'é +%' });
  });
});

describe('long-poll headers', () => {
  it('takes If-Modified-Since to the end of its second, in Unix seconds or as an HTTP date', () => {
    expect(sinceMicros('1700000000', 0)).toBe(1_700_000_000_999_999);
    expect(sinceMicros('Tue, 14 Nov 2023 22:13:20 GMT', 0)).toBe(1_700_000_000_999_999);
    expect(sinceMicros(httpDate(1_700_000_000_654_321), 0)).toBe(1_700_000_000_999_999);
    expect(sinceMicros(undefined, 42)).toBe(42);
    expect(() => sinceMicros('soon', 0)).toThrow(/If-Modified-Since/);
  });

  it('accepts Request-Timeout from 0 to 300000 ms only', () => {
    expect(requestTimeout(undefined)).toBeUndefined();
    expect(requestTimeout('0')).toBe(0);
    expect(requestTimeout(' 300000 ')).toBe(300_000);
    for (const bad of ['300001', '1e3', '-1', '', '99999999999']) expect(() => requestTimeout(bad)).toThrow();
  });
});

describe('record bodies', () => {
  it('groups values by timestamp across aliases, converting seconds, milliseconds and microseconds', () => {
    expect(
      recordValues([
        ['alias', 'a'],
        ['1700000000', '1'],
        ['1700000000000', '2'],
        ['alias', 'b'],
        ['1700000000000000', '3'],
        ['1700000001.5', '4'],
      ]),
    ).toEqual([
      { timestamp: 1_700_000_000_000_000, values: { a: '2', b: '3' } },
      { timestamp: 1_700_000_001_500_000, values: { b: '4' } },
    ]);
  });
});
