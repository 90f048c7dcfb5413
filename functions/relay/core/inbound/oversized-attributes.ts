/**
 * ONEiO cuts any single attribute value at 300,000 characters, silently. The relay still relays such a message
 * (ONEiO takes it), but says so: the operator learns which field is cut before someone misses its end.
 */

/** ONEiO's limit on one attribute value, in characters (UTF-16 code units, as Java and JavaScript count them). */
export const ONEIO_ATTRIBUTE_LIMIT = 300_000;

/** A log line names at most this many paths; a body with more has a problem the first few already show. */
export const MAX_REPORTED_PATHS = 10;

/** Longer keys are cut in a reported path: it only has to point at the field. */
const MAX_KEY_LENGTH = 64;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

interface Frame {
  readonly value: unknown;
  readonly parent: Frame | undefined;
  readonly key: string | number | undefined;
}

/**
 * The JSON paths (`$.issue.fields.description`, `$.items[3].body`) of the string values in an accepted body that
 * are longer than `limit`, in document order, at most {@link MAX_REPORTED_PATHS}. Never the values.
 *
 * `json` is the text ONEiO receives and `parsed` the value it was already parsed into. A string value is shorter
 * than the text that spells it (quotes and escapes only add), so a text of at most `limit + 2` characters cannot
 * hold one and is not walked at all: that is every body under the default size limit. Otherwise the walk is
 * iterative, so no nesting depth can overflow the stack, and a path is built only for a value that is reported.
 */
export function oversizedAttributes(
  json: string,
  parsed: unknown,
  limit: number = ONEIO_ATTRIBUTE_LIMIT,
): readonly string[] {
  if (json.length <= limit + 2) return [];
  const found: string[] = [];
  const stack: Frame[] = [{ value: parsed, parent: undefined, key: undefined }];
  while (stack.length > 0 && found.length < MAX_REPORTED_PATHS) {
    const frame = stack.pop() as Frame;
    const { value } = frame;
    if (typeof value === 'string') {
      if (value.length > limit) found.push(pathOf(frame));
    } else if (Array.isArray(value)) {
      // Pushed in reverse so that they come off the stack in document order.
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], parent: frame, key: i });
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        stack.push({ value: (value as Record<string, unknown>)[key], parent: frame, key });
      }
    }
  }
  return found;
}

function pathOf(frame: Frame): string {
  const segments: string[] = [];
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) {
    segments.push(segment(f.key));
  }
  return `$${segments.reverse().join('')}`;
}

function segment(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  if (IDENTIFIER.test(key) && key.length <= MAX_KEY_LENGTH) return `.${key}`;
  const shown = key.length > MAX_KEY_LENGTH ? `${key.slice(0, MAX_KEY_LENGTH)}…` : key;
  return `[${JSON.stringify(shown)}]`;
}
