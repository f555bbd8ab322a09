import { z } from 'zod';

/** The longest address SMTP can carry (RFC 5321's path limit, less the angle brackets). */
export const EMAIL_MAX_LENGTH = 254;

/**
 * An address as stored and compared: trimmed, and its domain lower-cased (domains ignore case;
 * the part before the "@" may not, so it is kept as typed, as RFC 5321 asks).
 */
export function normaliseEmail(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  return at === -1 ? trimmed : `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
}

/** An e-mail field: a message a person understands, before any database work. */
export const emailField = z
  .string({ error: 'Enter an e-mail address.' })
  .transform(normaliseEmail)
  .refine((value) => value.length <= EMAIL_MAX_LENGTH, {
    error: `Use an address of at most ${EMAIL_MAX_LENGTH} characters.`,
  })
  .refine((value) => z.email().safeParse(value).success, {
    error: 'That does not look like an e-mail address. It should look like name@example.com.',
  });
