import type { Request, Response } from 'express';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { clientIp } from '../security/client-address';
import { describeDevice } from '../session/device-name';
import { afterAnswer } from './after-answer';
import { mailLink } from './links';
import type { Mailer } from './mailer';
import type { MailTemplate } from './templates';

/**
 * "Your password was changed", to the account's confirmed address, after the answer has gone:
 * after a change on the account page and after a reset, so that a change the owner did not
 * make does not go unnoticed. It points at the reset form, the way back in if it was not them.
 */
export function passwordChangedNotice(deps: { config: Config; mailer: Mailer; logger: Logger }) {
  const { config, mailer, logger } = deps;
  return (res: Response, user: { username: string; email?: string }): void => {
    const { email } = user;
    if (!email) return;
    afterAnswer(res, logger, 'password change notice not sent', () =>
      mailer.send(email, 'password-changed', {
        username: user.username,
        link: mailLink(config, '/password/forgot'),
      }),
    );
  };
}

/** What changed in an account's two-factor sign-in, for its notice (views/mail/two-factor.*). */
export type TwoFactorChange = 'enabled' | 'disabled' | 'recovery-code-used';

type NoticeDeps = { config: Config; mailer: Mailer; logger: Logger };
type Owner = { username: string; email?: string };

/**
 * A change to how the account signs in, mailed to its confirmed address after the answer has
 * gone: `template` says what changed, with a link to `page`, where it can be undone, and to the
 * reset form, the way back in if it was not them.
 */
function signInChangeNotice(deps: NoticeDeps, template: MailTemplate, page: string) {
  const { config, mailer, logger } = deps;
  return (res: Response, user: Owner, details: Record<string, string>) => {
    const { email } = user;
    if (!email) return;
    afterAnswer(res, logger, `${template} notice not sent`, () =>
      mailer.send(email, template, {
        username: user.username,
        ...details,
        link: mailLink(config, page),
        reset: mailLink(config, '/password/forgot'),
      }),
    );
  };
}

/**
 * "Two-factor sign-in was turned on / off", "A recovery code was used": each changes how the
 * account is signed in to and ends its other sessions, so its owner hears of it.
 */
export function twoFactorNotice(deps: NoticeDeps) {
  const notify = signInChangeNotice(deps, 'two-factor', '/account/two-factor');
  return (res: Response, user: Owner, change: TwoFactorChange) => notify(res, user, { change });
}

/**
 * "A passkey was added / removed": a passkey signs in on its own, so one added by someone else
 * is a key to the account; its owner hears of it, with the page to remove it.
 */
export function passkeyNotice(deps: NoticeDeps) {
  const notify = signInChangeNotice(deps, 'passkeys', '/account/passkeys');
  return (res: Response, user: Owner, change: 'added' | 'removed', name: string) =>
    notify(res, user, { change, name });
}

/**
 * "New sign-in to your account", to the confirmed address, when a browser signs in that has not
 * signed in to the account before (no device cookie for it, auth/known-devices.ts), as GitHub and
 * Google do: which browser, from which address, when, and the sessions page, where the owner can
 * sign it out if it was not them.
 */
export function newSignInNotice(deps: { config: Config; mailer: Mailer; logger: Logger }) {
  const { config, mailer, logger } = deps;
  return (req: Request, res: Response, user: { username: string; email?: string }): void => {
    const { email } = user;
    if (!email) return;
    const details = {
      username: user.username,
      device: describeDevice(req.get('User-Agent')),
      address: clientIp(req),
      time: new Date().toUTCString().replace('GMT', 'UTC'),
      link: mailLink(config, '/account/sessions'),
    };
    afterAnswer(res, logger, 'new sign-in notice not sent', () =>
      mailer.send(email, 'new-sign-in', details),
    );
  };
}
