import type { Response } from 'express';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { afterAnswer } from './after-answer';
import { mailLink } from './links';
import type { Mailer } from './mailer';

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
