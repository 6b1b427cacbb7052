import type { TSchema, Static } from '@sinclair/typebox';
import { TypeCompiler, type ValueError } from '@sinclair/typebox/compiler';
import { invalidParameter } from './errors.js';

export type Validator<T extends TSchema> = (value: unknown) => Static<T>;

/** `/tags/0/name` → `tags[0].name`: the parameter as a caller writes it. */
export function parameterName(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), '');
}

function describe(error: ValueError): string {
  if (error.message === 'Unexpected property') return 'is not a known parameter';
  return error.message.charAt(0).toLowerCase() + error.message.slice(1);
}

/**
 * Compiles a schema once into a function that returns the value typed, or throws
 * INVALID_PARAMETER naming the first offending parameter. Every edge validates through this.
 */
export function compileValidator<T extends TSchema>(schema: T, root = 'body'): Validator<T> {
  const check = TypeCompiler.Compile(schema);
  return (value) => {
    if (check.Check(value)) return value;
    const first = check.Errors(value).First();
    if (!first) throw invalidParameter(root, 'is invalid');
    throw invalidParameter(parameterName(first.path) || root, describe(first));
  };
}
