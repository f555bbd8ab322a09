import type { Response } from 'express';
import type { Config } from '../config';

/**
 * A link for a message to carry: always built from PUBLIC_URL, never from the request's Host or
 * X-Forwarded-Host, which whoever sends the request chooses (a reset link pointing at their site).
 */
export function mailLink(config: Pick<Config, 'mail'>, path: string): string {
  return `${config.mail.publicUrl}${path}`;
}

/** The answer to a mailed link that is unknown, used, replaced or too old; `again` asks anew. */
export function linkExpired(res: Response, again: string): void {
  res.status(400).render('link-expired', { title: 'This link has expired', again });
}
