import type { Response } from 'express';
import type { Logger } from '../logger';

/**
 * Runs mail work once the answer has gone: what the visitor sees, and how long it takes, must
 * not depend on whether there was a message to send or whether the mail server is well. A
 * failure is logged by its code only (its message can quote an address).
 */
export function afterAnswer(
  res: Response,
  logger: Logger,
  what: string,
  work: () => Promise<unknown>,
): void {
  res.once('finish', () => {
    work().catch((error: unknown) =>
      logger.warn({ event: 'mail_work_failed', code: (error as { code?: unknown }).code }, what),
    );
  });
}
