/**
 * Turns a webhook's raw body into the JSON text ONEiO receives, or says precisely why it cannot.
 * JSON is forwarded byte for byte (parsed only to validate it, never re-serialised, so big integers and key order
 * survive); a form body becomes a JSON object of its fields.
 */

export type BodyVerdict =
  | { readonly ok: true; readonly json: string; readonly parsed: unknown }
  | { readonly ok: false; readonly status: 400 | 415; readonly error: string };

type MediaKind = 'json' | 'form';

/** UTF-8 under its common names, and US-ASCII, which is a subset of it. */
const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** `application/json`, `application/*+json` (CloudEvents, JSON:API) and HTML forms; UTF-8 only. */
export function mediaKind(contentType: string | undefined): MediaKind | undefined {
  if (contentType === undefined) return undefined;
  const [type = '', ...params] = contentType.split(';').map((part) => part.trim().toLowerCase());
  for (const param of params) {
    const [name, value = ''] = param.split('=').map((p) => p.trim());
    if (name === 'charset' && !UTF8_CHARSETS.has(value.replace(/"/g, ''))) return undefined;
  }
  if (type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)) return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  return undefined;
}

/** Validates and converts a body whose content type is supported. */
export function readBody(contentType: string | undefined, body: Buffer): BodyVerdict {
  const kind = mediaKind(contentType);
  if (kind === undefined) {
    return {
      ok: false,
      status: 415,
      error: 'Content-Type must be application/json or application/x-www-form-urlencoded (UTF-8)',
    };
  }
  let text: string;
  try {
    // Fatal decoding: invalid UTF-8 is refused here rather than silently replaced with U+FFFD.
    text = UTF8.decode(body);
  } catch {
    return { ok: false, status: 400, error: 'Body is not valid UTF-8' };
  }
  return kind === 'json' ? readJson(text) : readForm(text);
}

function readJson(text: string): BodyVerdict {
  if (text.trim().length === 0) return { ok: false, status: 400, error: 'Body is empty' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message would quote the body; the sender knows its body, logs must not see it.
    return { ok: false, status: 400, error: 'Body is not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return { ok: false, status: 400, error: 'Body must be a JSON object or array' };
  }
  return { ok: true, json: text, parsed };
}

function readForm(text: string): BodyVerdict {
  if (text.trim().length === 0) return { ok: false, status: 400, error: 'Body is empty' };
  const fields = formFields(text);
  if (Object.keys(fields).length === 0) return { ok: false, status: 400, error: 'Form body has no fields' };
  const parsed = { ...fields };
  return { ok: true, json: JSON.stringify(parsed), parsed };
}

/**
 * The fields of `application/x-www-form-urlencoded` text (a form body, or a query string), decoded. A repeated
 * field (`a=1&a=2`) keeps every value, in order, as a list. No prototype: a field called `__proto__` is a field.
 */
export function formFields(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(text)) {
    const seen = fields[name];
    fields[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return fields;
}
