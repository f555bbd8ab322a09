import { z } from 'zod';
import { normaliseUsername } from './users';

/** Long enough for any passphrase, short enough that hashing it is no denial-of-service lever. */
export const PASSWORD_MAX_LENGTH = 256;

/** Lengths in characters (code points), as a person counts them, not UTF-16 units or bytes. */
const characters = (value: string) => [...value].length;

/** Every field arrives as text or not at all; an array or object is a malformed request. */
const text = (missing: string) => z.string({ error: missing });

const username = text('Enter a username.')
  .transform(normaliseUsername)
  .refine((value) => characters(value) >= 3 && characters(value) <= 32, {
    error: 'Use 3 to 32 characters.',
  })
  .refine((value) => /^[\p{L}\p{N}._-]+$/u.test(value), {
    error: 'Use letters, digits, dots, dashes or underscores only.',
  });

function newPassword(minLength: number) {
  return text('Choose a password.')
    .refine((value) => characters(value) >= minLength, {
      error: `Use at least ${minLength} characters. A few unrelated words make a strong password.`,
    })
    .refine((value) => characters(value) <= PASSWORD_MAX_LENGTH, {
      error: `Use at most ${PASSWORD_MAX_LENGTH} characters.`,
    });
}

/** Unknown fields are dropped by zod, so nothing the form did not ask for reaches the database. */
export function registerForm(options: { passwordMinLength: number }) {
  return z.object({ username, password: newPassword(options.passwordMinLength) });
}

export const loginForm = z.object({
  username: text('Enter your username.')
    .trim()
    .min(1, { error: 'Enter your username.' })
    .max(64, { error: 'Incorrect username or password.' }),
  password: text('Enter your password.')
    .min(1, { error: 'Enter your password.' })
    .refine((value) => characters(value) <= PASSWORD_MAX_LENGTH, {
      error: 'Incorrect username or password.',
    }),
});

export type FieldErrors = Record<string, string>;

export type FormResult<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/** Validates a request body, keeping the first message for each field to show beside it. */
export function parseForm<T>(schema: z.ZodType<T>, body: unknown): FormResult<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    errors[field] ??= issue.message;
  }
  return { ok: false, errors };
}

/** What to put back in the form after an error: text fields only, never a password. */
export function keptValues(body: unknown, fields: readonly string[]): Record<string, string> {
  const source = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  return Object.fromEntries(
    fields.flatMap((field) => {
      const value = source[field];
      return typeof value === 'string' ? [[field, value]] : [];
    }),
  );
}
