/**
 * The raw body as a JSON object, or `undefined` when it is not one (a form, an array, invalid JSON). Verifiers use
 * it only after the signature holds, to read a delivery id or recognise a handshake; the body that is relayed is
 * still the raw bytes.
 */
export function jsonObject(body: Buffer): Readonly<Record<string, unknown>> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
