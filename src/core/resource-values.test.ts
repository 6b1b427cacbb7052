import { describe, expect, it } from 'vitest';
import { GatewayError } from './errors.js';
import { checkAllowedRule, conformValue, MAX_STRING_VALUE_BYTES } from './resource-values.js';
import type { ResourceValue } from './schemas/common.js';
import type { ResourceDefinition, ResourceFormat } from './schemas/resource.js';

function definition(format: ResourceFormat, allowed?: ResourceValue[]): ResourceDefinition {
  return { format, sync: true, settable: true, retention: '12', ...(allowed && { allowed }) };
}

/** The error `fn` throws, so tests can look at its code, parameter and message. */
function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

describe('conformValue', () => {
  it('keeps numbers and converts decimal text for number resources', () => {
    const number = definition('number');
    expect(conformValue(number, 12.5, 'temp')).toBe(12.5);
    expect(conformValue(number, '12.5', 'temp')).toBe(12.5);
    expect(conformValue(number, '-3', 'temp')).toBe(-3);
    expect(conformValue(number, ' 42 ', 'temp')).toBe(42);
    expect(conformValue(number, '1e3', 'temp')).toBe(1000);
    expect(conformValue(number, '.5', 'temp')).toBe(0.5);
    expect(conformValue(number, '0', 'temp')).toBe(0);
  });

  it('refuses text that is not a decimal number for number resources, naming the parameter', () => {
    const number = definition('number');
    for (const bad of [
      '',
      '  ',
      'abc',
      '12.5.1',
      '0x1F',
      '0b11',
      '0o7',
      'Infinity',
      '-Infinity',
      'NaN',
      '1e400',
      true,
    ]) {
      const error = thrown(() => conformValue(number, bad, 'temp'));
      expect(error.code, JSON.stringify(bad)).toBe('INVALID_PARAMETER');
      expect(error.parameter).toBe('temp');
      expect(error.message).toContain('"temp"');
    }
  });

  it('converts "true" and "false" for boolean resources and refuses other text', () => {
    const flag = definition('boolean');
    expect(conformValue(flag, true, 'on')).toBe(true);
    expect(conformValue(flag, false, 'on')).toBe(false);
    expect(conformValue(flag, 'true', 'on')).toBe(true);
    expect(conformValue(flag, 'false', 'on')).toBe(false);
    for (const bad of ['yes', 'TRUE', '', 2, 'truex']) {
      expect(thrown(() => conformValue(flag, bad, 'on')).parameter).toBe('on');
    }
  });

  it('stores any value of a string resource as text', () => {
    const text = definition('string');
    expect(conformValue(text, 'hello', 'msg')).toBe('hello');
    expect(conformValue(text, 12.5, 'msg')).toBe('12.5');
    expect(conformValue(text, false, 'msg')).toBe('false');
    expect(conformValue(text, '', 'msg')).toBe('');
  });

  it('limits string values to 65536 bytes of UTF-8, not characters', () => {
    const text = definition('string');
    expect(conformValue(text, 'a'.repeat(MAX_STRING_VALUE_BYTES), 'msg')).toHaveLength(65536);
    expect(thrown(() => conformValue(text, 'a'.repeat(MAX_STRING_VALUE_BYTES + 1), 'msg')).parameter).toBe(
      'msg',
    );
    // "é" is 2 bytes: 32768 of them fit exactly, one more does not.
    expect(conformValue(text, 'é'.repeat(32768), 'msg')).toHaveLength(32768);
    expect(() => conformValue(text, 'é'.repeat(32769), 'msg')).toThrow(/65536 bytes/);
  });

  it('accepts only the allowed values when the definition lists some', () => {
    const mode = definition('string', ['auto', 'manual']);
    expect(conformValue(mode, 'auto', 'mode')).toBe('auto');
    const error = thrown(() => conformValue(mode, 'Auto', 'mode'));
    expect(error.parameter).toBe('mode');
    expect(error.message).toMatch(/"Auto" is not allowed/);
    expect(conformValue(definition('boolean', [true]), 'true', 'on')).toBe(true);
    expect(() => conformValue(definition('boolean', [true]), false, 'on')).toThrow(/not allowed/);
    expect(conformValue(definition('string', []), 'anything', 'mode')).toBe('anything');
  });

  it('compares allowed numbers with the converted value', () => {
    const level = definition('number', [1, 2, 3]);
    expect(conformValue(level, '2', 'level')).toBe(2);
    expect(() => conformValue(level, '2.5', 'level')).toThrow(/not allowed/);
  });

  it('allows number values inside "low-high" ranges, bounds included', () => {
    const temp = definition('number', ['9-11']);
    for (const ok of [9, 10, 10.999, 11, '9.5']) expect(() => conformValue(temp, ok, 't')).not.toThrow();
    for (const bad of [8.999, 11.001, -10, '12'])
      expect(() => conformValue(temp, bad, 't')).toThrow(/not allowed/);
  });

  it('reads negative and decimal range bounds', () => {
    const negative = definition('number', ['-10--5']);
    expect(conformValue(negative, -7, 't')).toBe(-7);
    expect(() => conformValue(negative, 7, 't')).toThrow();
    expect(() => conformValue(negative, -11, 't')).toThrow();
    const across = definition('number', ['-1.5 - 2.25']);
    expect(conformValue(across, -1.5, 't')).toBe(-1.5);
    expect(conformValue(across, 2.25, 't')).toBe(2.25);
    expect(() => conformValue(across, 2.26, 't')).toThrow();
  });

  it('allows a value matching any one of several rules', () => {
    const rules = definition('number', [0, '10-20', '100-200']);
    for (const ok of [0, 15, 150]) expect(conformValue(rules, ok, 't')).toBe(ok);
    expect(() => conformValue(rules, 50, 't')).toThrow();
  });

  it('keeps the refusal of a long value short', () => {
    const error = thrown(() => conformValue(definition('string', ['a']), 'x'.repeat(10_000), 'msg'));
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('checkAllowedRule', () => {
  it('takes numbers and "low-high" range strings for number resources', () => {
    for (const rule of [5, -2.5, '9-11', '-5--1', '0.5-1.5', ' 1 - 2 ', '3-3']) {
      expect(() => checkAllowedRule(rule, 'number', 'allowed[0]')).not.toThrow();
    }
  });

  it('refuses rules a number resource could never match, naming the rule', () => {
    for (const rule of ['abc', '5', '1-', '-', '1-2-3', true, Infinity, NaN]) {
      const error = thrown(() => checkAllowedRule(rule, 'number', 'allowed[2]'));
      expect(error.code, String(rule)).toBe('INVALID_PARAMETER');
      expect(error.parameter).toBe('allowed[2]');
    }
  });

  it('refuses a range whose start is above its end', () => {
    expect(() => checkAllowedRule('11-9', 'number', 'allowed[0]')).toThrow(/starts above its end/);
    expect(() => checkAllowedRule('-1--5', 'number', 'allowed[0]')).toThrow(/allowed\[0\]/);
  });

  it('takes only rules of the resource format for string and boolean resources', () => {
    expect(() => checkAllowedRule('on', 'string', 'allowed[0]')).not.toThrow();
    expect(() => checkAllowedRule('9-11', 'string', 'allowed[0]')).not.toThrow();
    expect(() => checkAllowedRule(5, 'string', 'allowed[0]')).toThrow(/must be a string/);
    expect(() => checkAllowedRule(false, 'boolean', 'allowed[0]')).not.toThrow();
    expect(() => checkAllowedRule('true', 'boolean', 'allowed[1]')).toThrow(/allowed\[1\]/);
  });
});
