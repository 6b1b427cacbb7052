import type { TSchema, Static } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType, type ValueError } from '@sinclair/typebox/compiler';
import { invalidParameter } from './errors.js';

export type Validator<T extends TSchema> = (value: unknown) => Static<T>;

/**
 * `/tags/0/name` → `tags[0].name`: the parameter as a caller writes it. Given the value the
 * pointer points into, only array positions become `[n]`, so an object key such as a resource
 * alias "0" stays `0`.
 */
export function parameterName(pointer: string, value?: unknown): string {
  let name = '';
  let node = value;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const isIndex = value === undefined ? /^\d+$/.test(part) : Array.isArray(node);
    name = isIndex ? `${name}[${part}]` : name ? `${name}.${part}` : part;
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  }
  return name;
}

function alternative(option: { const?: unknown; type?: unknown }): string | undefined {
  if ('const' in option) return JSON.stringify(option.const);
  if (option.type === 'null') return 'null';
  if (typeof option.type !== 'string') return undefined;
  return `${/^[aeiou]/.test(option.type) ? 'an' : 'a'} ${option.type}`;
}

/** `"a", "b" or a number` for a union, instead of TypeBox's "Expected union value". */
function alternatives(schema: TSchema): string | undefined {
  const options = (schema as { anyOf?: { const?: unknown; type?: unknown }[] }).anyOf ?? [];
  const described = options.map(alternative);
  if (described.length === 0 || described.some((d) => d === undefined)) return undefined;
  return described.length === 1
    ? described[0]
    : `${described.slice(0, -1).join(', ')} or ${described[described.length - 1]}`;
}

/** Errors that say the value is of another kind than the variant, rather than breaking its rules. */
const KIND_MISMATCH = new Set<ValueErrorType>([
  ValueErrorType.Array,
  ValueErrorType.Boolean,
  ValueErrorType.Integer,
  ValueErrorType.Literal,
  ValueErrorType.Null,
  ValueErrorType.Number,
  ValueErrorType.Object,
  ValueErrorType.String,
  ValueErrorType.Union,
]);

/**
 * A union the value failed as a whole is reported at the union. When a variant fits the value's
 * kind but breaks one of its rules (`timeout: 10` against `integer >= 30 or null`), or fails
 * deeper down (`pki.enabled`), that variant's error says more, so it is reported instead.
 */
function innermost(error: ValueError): ValueError {
  if (error.type !== ValueErrorType.Union) return error;
  for (const variant of error.errors) {
    const first = variant.First();
    if (first && (first.path.length > error.path.length || !KIND_MISMATCH.has(first.type)))
      return innermost(first);
  }
  return error;
}

function describe(error: ValueError): string {
  if (error.type === ValueErrorType.ObjectAdditionalProperties) return 'is not a known parameter';
  if (error.type === ValueErrorType.ObjectRequiredProperty) return 'is required';
  const choices = error.type === ValueErrorType.Union ? alternatives(error.schema) : undefined;
  if (choices) return `must be ${choices}`;
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
    const found = check.Errors(value).First();
    if (!found) throw invalidParameter(root, 'is invalid');
    const first = innermost(found);
    throw invalidParameter(parameterName(first.path, value) || root, describe(first));
  };
}
