/**
 * Reads a header by name, ignoring case. API Gateway v2 lower-cases names already; other callers (tests, a local
 * sandbox) may not. If the name appears in several spellings, the values are joined with `, ` as HTTP joins
 * repeated fields, so a scheme that expects exactly one signature sees a value it will refuse rather than
 * silently picking one. An empty value counts as absent.
 */
export function headerValue(
  headers: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && key.toLowerCase() === wanted) values.push(value);
  }
  const joined = values.join(', ');
  return joined === '' ? undefined : joined;
}
