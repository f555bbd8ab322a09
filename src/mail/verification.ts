import type { AccountTokens } from '../accounts/account-tokens';
import type { Config } from '../config';
import { tokenLink } from './links';
import type { Mailer } from './mailer';

/**
 * Sends `email` a link that proves it belongs to the user: a verification token (valid
 * EMAIL_VERIFY_HOURS, the newest one only) in a link to this site.
 */
export function verificationSender(deps: {
  config: Config;
  tokens: AccountTokens;
  mailer: Mailer;
}) {
  const { config, tokens, mailer } = deps;
  return async (user: { id: number; username: string }, email: string): Promise<void> => {
    const hours = config.mail.verifyHours;
    const token = await tokens.issue(user.id, 'verify-email', { minutes: hours * 60, email });
    await mailer.send(email, 'verify-email', {
      username: user.username,
      link: tokenLink(config, 'verify-email', token),
      hours,
    });
  };
}
