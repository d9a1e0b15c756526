// Time-ordered ids: 10 chars of millisecond time + 16 random chars, Crockford base32 (like ULID),
// so ids sort by creation time and D1 range scans by id follow arrival order.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function ulid(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let rand = "";
  for (const b of random) rand += ALPHABET[b % 32];
  return time + rand;
}

export const newId = (prefix: string): string => `${prefix}_${ulid()}`;
