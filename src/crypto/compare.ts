/**
 * Constant-time equality of two byte strings. Length is not secret (signatures and keys have public
 * lengths), but the contents are compared without an early exit.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
