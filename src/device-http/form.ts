import { GatewayError } from '../core/errors.js';

/** One `name=value` pair of an application/x-www-form-urlencoded text, decoded. */
export type FormPair = [name: string, value: string];

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PERCENT = 0x25;
const PLUS = 0x2b;

function malformed(where: string): GatewayError {
  return new GatewayError('INVALID_PARAMETER', `the ${where} has a malformed %-escape`, { parameter: where });
}

function decode(text: string, start: number, end: number, escaped: boolean, where: string): string {
  const raw = text.slice(start, end);
  if (!escaped) return raw;
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    throw malformed(where);
  }
}

/**
 * Parses form text in one pass (a body of a million `&` stays linear), keeping the order and the
 * repeats of names, which `/onep:v1/stack/record` depends on. `+` is a space and `%XX` an escaped
 * UTF-8 byte; an escape that does not decode is refused (`where` names the body or query) rather
 * than stored as something the device did not send. A pair without `=` has the empty value.
 */
export function parseForm(text: string, where: string): FormPair[] {
  const pairs: FormPair[] = [];
  const length = text.length;
  let start = 0;
  let equals = -1;
  let escaped = false;
  for (let i = 0; i <= length; i++) {
    const code = i < length ? text.charCodeAt(i) : AMPERSAND;
    if (code === AMPERSAND) {
      if (i > start) {
        pairs.push(
          equals === -1
            ? [decode(text, start, i, escaped, where), '']
            : [decode(text, start, equals, escaped, where), decode(text, equals + 1, i, escaped, where)],
        );
      }
      start = i + 1;
      equals = -1;
      escaped = false;
    } else if (code === EQUALS) {
      if (equals === -1) equals = i;
    } else if (code === PERCENT || code === PLUS) {
      escaped = true;
    }
  }
  return pairs;
}

/** The query string of a request URL, without the `?` ('' when there is none). */
export function queryOf(url: string): string {
  const mark = url.indexOf('?');
  return mark === -1 ? '' : url.slice(mark + 1);
}

/** Form-encodes one name or value: what decodeURIComponent leaves alone stays, spaces become `+`. */
export function encodeFormComponent(text: string): string {
  return encodeURIComponent(text).replaceAll('%20', '+');
}

/** `a=1&b=2` for the given values, in their order. */
export function encodeForm(values: Record<string, string | number | boolean>): string {
  let body = '';
  for (const name in values) {
    if (body !== '') body += '&';
    body += `${encodeFormComponent(name)}=${encodeFormComponent(String(values[name]))}`;
  }
  return body;
}
