/**
 * Strict decoders for signatures and keys. `Buffer.from(s, 'hex' | 'base64')` silently skips characters it
 * does not understand, which would let garbage decode to something; these refuse instead and return `undefined`.
 */

const SHA256_BYTES = 32;
const HEX_LOWER_SHA256 = /^[0-9a-f]{64}$/;
const HEX_ANY_CASE_SHA256 = /^[0-9a-fA-F]{64}$/;
/** 32 bytes are 43 base64 characters plus one `=` of padding. */
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const BASE64_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a hex SHA-256 digest. GitHub and Stripe send lower case and their official libraries compare the
 * text exactly, so upper case is refused unless `anyCase` (generic senders vary).
 */
export function decodeHexSha256(value: string, anyCase = false): Buffer | undefined {
  const pattern = anyCase ? HEX_ANY_CASE_SHA256 : HEX_LOWER_SHA256;
  return pattern.test(value) ? Buffer.from(value, 'hex') : undefined;
}

/**
 * Decodes a standard-alphabet base64 SHA-256 digest (`unpadded` also accepts it without the trailing `=`).
 * Only the canonical spelling is accepted, as the official libraries compare the base64 text exactly.
 */
export function decodeBase64Sha256(value: string, unpadded = false): Buffer | undefined {
  const padded = unpadded && value.length === 43 ? `${value}=` : value;
  if (!BASE64_SHA256.test(padded)) return undefined;
  const bytes = Buffer.from(padded, 'base64');
  // The last character carries 2 bits that do not fit in 32 bytes; a non-canonical spelling leaves them set.
  return bytes.length === SHA256_BYTES && bytes.toString('base64') === padded ? bytes : undefined;
}

/** Decodes padded standard base64 of any length (keys, Basic credentials); `undefined` if not canonical. */
export function decodeBase64(value: string): Buffer | undefined {
  if (!BASE64_PADDED.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : undefined;
}
