import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const KEY_ID_LENGTH = 10;
export const KEY_SECRET_LENGTH = 22;

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

export interface NewApiKey {
  id: string;
  secret: string;
  hashedSecret: Buffer;
  /** What the client keeps: `<id>-<secret>`. */
  token: string;
}

export function generateApiKey(): NewApiKey {
  const id = randomString(KEY_ID_LENGTH);
  const secret = randomString(KEY_SECRET_LENGTH);
  return { id, secret, hashedSecret: hashSecret(secret), token: `${id}-${secret}` };
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

export type ParsedToken = { ok: true; id: string; secret: string } | { ok: false; detail: string };

export function parseToken(token: string): ParsedToken {
  const parts = token.split('-');
  if (parts.length !== 2) return { ok: false, detail: 'Invalid API key format: expected "<id>-<secret>".' };
  const [id = '', secret = ''] = parts;
  if (id.length !== KEY_ID_LENGTH) return { ok: false, detail: `Invalid API key format: the id must be ${KEY_ID_LENGTH} characters.` };
  if (secret.length !== KEY_SECRET_LENGTH) return { ok: false, detail: `Invalid API key format: the secret must be ${KEY_SECRET_LENGTH} characters.` };
  return { ok: true, id, secret };
}

export function secretMatches(secret: string, stored: Buffer): boolean {
  const h = hashSecret(secret);
  return h.length === stored.length && timingSafeEqual(h, stored);
}
