import path from 'node:path';
import pug, { type compileTemplate } from 'pug';
import { paths } from '../paths';

/** The messages the site sends, each with a subject, a plain-text and an HTML body. */
const SUBJECTS = {
  'verify-email': 'Confirm your e-mail address',
  'reset-password': 'Reset your password',
  'password-changed': 'Your password was changed',
  'email-changed': 'The e-mail address on your account was changed',
  'new-sign-in': 'New sign-in to your account',
  'two-factor': 'Two-factor sign-in changed on your account',
  passkeys: 'Passkeys changed on your account',
} as const;

export type MailTemplate = keyof typeof SUBJECTS;

const compiled = new Map<string, compileTemplate>();
function template(file: string): compileTemplate {
  let render = compiled.get(file);
  if (!render) {
    render = pug.compileFile(path.join(paths.views, 'mail', file));
    compiled.set(file, render);
  }
  return render;
}

/**
 * views/mail/<name>.text.pug and <name>.html.pug, given the same locals. Every message has both
 * bodies: some people read mail as plain text, and the text body is what a spam filter and a
 * screen reader trust most.
 */
export function renderMail(name: MailTemplate, locals: Record<string, unknown>) {
  const subject = SUBJECTS[name];
  const all = { ...locals, subject };
  return {
    subject,
    text: template(`${name}.text.pug`)(all).trim() + '\n',
    html: template(`${name}.html.pug`)(all),
  };
}
