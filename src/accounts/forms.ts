import { z } from 'zod';
import { characterCount, PASSWORD_MAX_LENGTH, passwordProblem } from '../passwords/password-policy';
import { emailField } from './emails';
import { isSingleScript, normaliseUsername } from './usernames';

/** Every field arrives as text or not at all; an array or object is a malformed request. */
const text = (missing: string) => z.string({ error: missing });

const username = text('Enter a username.')
  .transform(normaliseUsername)
  .refine((value) => characterCount(value) >= 3 && characterCount(value) <= 32, {
    error: 'Use 3 to 32 characters.',
  })
  // Letters with their combining marks (Devanagari's vowel signs are marks), digits, ".", "_"
  // and "-"; no mark first, where it would have no letter to sit on.
  .refine((value) => /^(?!\p{M})[\p{L}\p{M}\p{N}._-]+$/u.test(value), {
    error: 'Use letters, digits, dots, dashes or underscores only.',
  })
  .refine(isSingleScript, { error: 'Use letters from one alphabet or writing system.' });

/** A password being typed in to prove who you are: any length check is the policy's job. */
const existingPassword = (missing: string) =>
  text(missing)
    .min(1, { error: missing })
    // Longer than any password we accept: refused before it costs a database query or a hash.
    .refine((value) => characterCount(value) <= PASSWORD_MAX_LENGTH, {
      error: `Passwords are at most ${PASSWORD_MAX_LENGTH} characters.`,
    });

export interface PolicyOptions {
  passwordMinLength: number;
  siteName: string;
}

/**
 * A new password, checked against the rules a person can read at a glance: length, common
 * passwords, the username, the site name. Cheap, so checked even when the username is invalid:
 * the person sees every problem at once. zxcvbn's estimate, the one costly rule, is not here: it
 * runs after the form has passed and the throttle has counted the request (strength-check.ts).
 */
function withPasswordPolicy<T extends z.ZodType>(
  schema: T,
  field: string,
  usernameOf: (data: Record<string, unknown>) => unknown,
  options: PolicyOptions,
) {
  return schema.superRefine(
    (data, ctx) => {
      const values = data as Record<string, unknown>;
      const password = values[field];
      if (typeof password !== 'string') return;
      const name = usernameOf(values);
      const problem = passwordProblem(password, {
        minLength: options.passwordMinLength,
        siteName: options.siteName,
        username: typeof name === 'string' ? normaliseUsername(name) : '',
      });
      if (problem) ctx.addIssue({ code: 'custom', path: [field], message: problem.message });
    },
    { when: () => true },
  );
}

/**
 * Unknown fields are dropped by zod, so nothing the form did not ask for reaches the database.
 * The e-mail address is optional: left empty, there is none.
 */
export function registerForm(options: PolicyOptions) {
  return withPasswordPolicy(
    z.object({
      username,
      password: text('Choose a password.'),
      email: z
        .literal('')
        .transform(() => undefined)
        .or(emailField)
        .optional(),
    }),
    'password',
    (data) => data.username,
    options,
  );
}

/** A new password chosen through a reset link, held to the registration rules. */
export function resetPasswordForm(options: PolicyOptions & { username: string }) {
  return withPasswordPolicy(
    z.object({ password: text('Choose a new password.') }),
    'password',
    () => options.username,
    options,
  );
}

export const loginForm = z.object({
  username: text('Enter your username.')
    .trim()
    .min(1, { error: 'Enter your username.' })
    .max(64, { error: 'Incorrect username or password.' }),
  password: existingPassword('Enter your password.'),
});

export function changePasswordForm(options: PolicyOptions & { username: string }) {
  return withPasswordPolicy(
    z.object({
      current_password: existingPassword('Enter your current password.'),
      new_password: text('Choose a new password.'),
    }),
    'new_password',
    () => options.username,
    options,
  );
}

export const deleteAccountForm = z.object({
  password: existingPassword('Enter your password to confirm.'),
});

export const confirmPasswordForm = z.object({
  password: existingPassword('Enter your password.'),
});

/**
 * The second step of a sign-in: six digits from the app, or a recovery code ("k7dq2-m9xpt").
 * Spaces are allowed (apps show "123 456"); anything longer than a recovery code is refused
 * before any database work.
 */
export const secondStepForm = z.object({
  code: text('Enter the code from your authenticator app, or a recovery code.')
    .trim()
    .min(1, { error: 'Enter the code from your authenticator app, or a recovery code.' })
    .max(24, { error: 'That code is too long. Enter the 6 digits your app shows.' }),
});

/** The code that confirms an authenticator app while setting it up: six digits only. */
export const authenticatorCodeForm = z.object({
  code: text('Enter the 6-digit code your app shows.')
    .transform((value) => value.replace(/\s/g, ''))
    .refine((value) => /^\d{6}$/.test(value), { error: 'Enter the 6 digits your app shows.' }),
});

/** A passkey's name, as its owner calls it in the list ("Work laptop"). */
export const passkeyNameForm = z.object({
  name: text('Give the passkey a name.')
    .trim()
    .min(1, { error: 'Give the passkey a name.' })
    .max(100, { error: 'Keep the name under 100 characters.' }),
});

export type FieldErrors = Record<string, string>;

/** Advice shown under a field as a list (zxcvbn's suggestions for a weak password). */
export type FieldSuggestions = Record<string, string[]>;

export type FormResult<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/** Validates a request body, keeping the first message for each field to show beside it. */
export function parseForm<T>(schema: z.ZodType<T>, body: unknown): FormResult<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    if (!(field in errors)) errors[field] = issue.message;
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
