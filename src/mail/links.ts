import type { Response } from 'express';
import type { TokenPurpose } from '../accounts/account-tokens';
import type { Config } from '../config';

/**
 * A link for a message to carry: always built from PUBLIC_URL, never from the request's Host or
 * X-Forwarded-Host, which whoever sends the request chooses (a reset link pointing at their site).
 */
export function mailLink(config: Pick<Config, 'mail'>, path: string): string {
  return `${config.mail.publicUrl}${path}`;
}

/**
 * Where the link for each kind of token leads: the token is the path's last segment. Every
 * purpose must have one (the type says so), and this list is also what keeps tokens out of the
 * request log (tokenMasked()).
 */
export const TOKEN_PATHS = {
  'reset-password': '/password/reset/',
  'verify-email': '/email/verify/',
} as const satisfies Record<TokenPurpose, string>;

/** The route that receives a link of this purpose, for the router: "/password/reset/:token". */
export const tokenRoute = <P extends TokenPurpose>(purpose: P) =>
  `${TOKEN_PATHS[purpose]}:token` as `${(typeof TOKEN_PATHS)[P]}:token`;

/** The link a message carries for `token`. */
export function tokenLink(config: Pick<Config, 'mail'>, purpose: TokenPurpose, token: string) {
  return mailLink(config, `${TOKEN_PATHS[purpose]}${token}`);
}

/**
 * A request path as a log may show it: a mailed link's token replaced by ":token". Whoever reads
 * the log must not be able to reset a password or confirm an address with what they read.
 */
export function tokenMasked(path: string): string {
  for (const prefix of Object.values(TOKEN_PATHS)) {
    if (path.startsWith(prefix) && path.length > prefix.length) return `${prefix}:token`;
  }
  return path;
}

/** The answer to a mailed link that is unknown, used, replaced or too old; `again` asks anew. */
export function linkExpired(res: Response, again: string): void {
  res.status(400).render('link-expired', { title: 'This link has expired', again });
}
