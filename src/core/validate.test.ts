import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { GatewayError } from './errors.js';
import { AddIdentityTagParams, SetIdentityStateParams } from './schemas/identity-query.js';
import { ResourceParams } from './schemas/resource.js';
import { defaultSettings, GatewaySettings } from './schemas/settings.js';
import { compileValidator, parameterName } from './validate.js';

/** The INVALID_PARAMETER error `validate` throws for `value`. */
function refusal(validate: (value: unknown) => unknown, value: unknown): GatewayError {
  try {
    validate(value);
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'INVALID_PARAMETER') return error;
    throw error;
  }
  throw new Error('expected the value to be refused');
}

describe('compileValidator', () => {
  const addTag = compileValidator(AddIdentityTagParams);

  it('returns a valid value unchanged', () => {
    const value = { identity: 'dev-1', tags: [{ name: 'site', value: 'lyon' }] };
    expect(addTag(value)).toBe(value);
  });

  it('names an array element the way a caller writes it', () => {
    const error = refusal(addTag, {
      identity: 'dev-1',
      tags: [
        { name: 'a', value: 'b' },
        { name: 5, value: 'x' },
      ],
    });
    expect(error.parameter).toBe('tags[1].name');
    expect(error.message).toBe('parameter "tags[1].name": expected string');
  });

  it('names nested object properties with dots', () => {
    const validate = compileValidator(Type.Object({ a: Type.Object({ b: Type.Number() }) }));
    expect(refusal(validate, { a: { b: 'x' } }).parameter).toBe('a.b');
  });

  it('names an unknown property and says it is not a known parameter', () => {
    const top = refusal(addTag, { identity: 'dev-1', tags: [{ name: 'a', value: 'b' }], colour: 'red' });
    expect(top.parameter).toBe('colour');
    expect(top.message).toMatch(/"colour": is not a known parameter/);
    const nested = refusal(addTag, { identity: 'dev-1', tags: [{ name: 'a', value: 'b', extra: 1 }] });
    expect(nested.parameter).toBe('tags[0].extra');
  });

  it('says a missing parameter is required', () => {
    const error = refusal(addTag, { tags: [{ name: 'a', value: 'b' }] });
    expect(error.parameter).toBe('identity');
    expect(error.message).toBe('parameter "identity": is required');
  });

  it('lists the values an enumeration allows', () => {
    const error = refusal(compileValidator(ResourceParams), { alias: 'temp', format: 'float' });
    expect(error.parameter).toBe('format');
    expect(error.message).toBe('parameter "format": must be "boolean", "number" or "string"');
  });

  it('lists the types a union of types allows', () => {
    const error = refusal(compileValidator(ResourceParams), { alias: 'temp', allowed: [1, { x: 1 }] });
    expect(error.message).toBe('parameter "allowed[1]": must be a string, a number or a boolean');
  });

  it('reports a failure inside a union variant where it happened', () => {
    const settings = compileValidator(GatewaySettings, 'settings');
    const deep = refusal(settings, { ...defaultSettings(), pki: { enabled: 'yes', client_ca: [] } });
    expect(deep.parameter).toBe('pki.enabled');
    const whole = refusal(settings, { ...defaultSettings(), pki: 5 });
    expect(whole.message).toBe('parameter "pki": must be an object or null');
  });

  it('keeps an object key made of digits as a name, not an index', () => {
    const error = refusal(compileValidator(SetIdentityStateParams), {
      identity: 'dev-1',
      '0': { nested: 1 },
    });
    expect(error.parameter).toBe('0');
  });

  it('names the root when the value itself is wrong', () => {
    expect(refusal(compileValidator(Type.Object({})), 'text').parameter).toBe('body');
    expect(refusal(compileValidator(Type.Object({}), 'settings'), null).parameter).toBe('settings');
  });

  it('keeps pattern and range constraints in the message', () => {
    expect(refusal(addTag, { identity: 'a/b', tags: [{ name: 'a', value: 'b' }] }).message).toMatch(
      /"identity": expected string to match/,
    );
    const qos = refusal(compileValidator(ResourceParams), { alias: 'temp', script: { qos: 3 } });
    expect(qos.message).toBe('parameter "script.qos": expected integer to be less or equal to 2');
  });
});

describe('parameterName', () => {
  it('turns a JSON pointer into the parameter as written', () => {
    expect(parameterName('/tags/0/name')).toBe('tags[0].name');
    expect(parameterName('/a/b')).toBe('a.b');
    expect(parameterName('/0/x')).toBe('[0].x');
    expect(parameterName('')).toBe('');
  });

  it('decodes escaped slashes and tildes', () => {
    expect(parameterName('/a~1b~0c')).toBe('a/b~c');
  });

  it('uses the value to tell array indexes from digit keys', () => {
    expect(parameterName('/state/12/set', { state: { '12': { set: 1 } } })).toBe('state.12.set');
    expect(parameterName('/list/12', { list: [] })).toBe('list[12]');
  });
});

describe('compileValidator on nullable fields', () => {
  it('reports the rule a value of the right kind breaks, not the union', () => {
    const validate = compileValidator(
      Type.Object({ timeout: Type.Optional(Type.Union([Type.Integer({ minimum: 30 }), Type.Null()])) }),
    );
    expect(() => validate({ timeout: 10 })).toThrow(
      'parameter "timeout": expected integer to be greater or equal to 30',
    );
    expect(() => validate({ timeout: 'x' })).toThrow('parameter "timeout": must be an integer or null');
    expect(validate({ timeout: null })).toEqual({ timeout: null });
  });
});
