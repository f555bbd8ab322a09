import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { normaliseUsername } from '../accounts/usernames';
import { logTags } from '../security/events';
import { deriveKey } from '../security/keys';
import { renderMail, type MailTemplate } from './templates';

/**
 * How mail leaves, decided once from the configuration:
 * - `smtp`: MAIL_URL names a server (smtp:// or smtps://, with user and password if any);
 * - `outbox`: development without MAIL_URL: each message becomes an .eml file under
 *   MAIL_OUTBOX_DIR (and a .json copy for /dev/outbox), and its links are logged, so
 *   `npm run dev` needs no mail server to try the flows;
 * - `off`: anywhere else without MAIL_URL (production, tests): no mail, and the features that
 *   need it (verification, password reset) hide their links.
 */
export type MailMode = 'smtp' | 'outbox' | 'off';

export interface Mailer {
  readonly mode: MailMode;
  /**
   * Sends a message in the background, never throwing: a visitor's answer must not depend on a
   * mail server (nor take longer when there is a message to send). A failed attempt is retried
   * with back-off; the last failure is logged, without the address in clear or the message
   * (which holds the link's token). Resolves when it was sent or given up.
   */
  send(to: string, template: MailTemplate, locals: Record<string, unknown>): Promise<boolean>;
}

export interface MailerOptions {
  /** Waits between attempts (default: 2 s, 10 s, 30 s: four attempts in about 40 s). */
  retryDelaysMs?: readonly number[];
}

/** One outbox message, as /dev/outbox shows it. */
export interface OutboxMessage {
  id: string;
  to: string;
  subject: string;
  date: string;
  text: string;
}

function mailMode(config: Pick<Config, 'env' | 'mail'>): MailMode {
  if (config.mail.url) return 'smtp';
  return config.env === 'development' ? 'outbox' : 'off';
}

export function createMailer(
  config: Config,
  logger: Logger,
  { retryDelaysMs = [2000, 10_000, 30_000] }: MailerOptions = {},
): Mailer {
  const mode = mailMode(config);
  const transport: Transporter | undefined =
    mode === 'smtp'
      ? nodemailer.createTransport(config.mail.url as string)
      : mode === 'outbox'
        ? nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
        : undefined;
  // Which address a log line is about, without writing the address down: the security log's tag.
  const tags = logTags(deriveKey(config.session.secrets[0] ?? '', 'logTag'), normaliseUsername);

  const deliver = async (to: string, template: MailTemplate, locals: Record<string, unknown>) => {
    if (!transport) return;
    const { subject, text, html } = renderMail(template, { ...locals, siteName: config.siteName });
    const info = await transport.sendMail({ from: config.mail.from, to, subject, text, html });
    if (mode !== 'outbox') return;
    const id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
    const dir = config.mail.outboxDir;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${id}.eml`), info.message as Buffer);
    const saved: OutboxMessage = { id, to, subject, date: new Date().toISOString(), text };
    fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(saved, null, 2));
    const links = text.match(/https?:\/\/\S+/g) ?? [];
    logger.info({ event: 'mail_outbox', id, links }, `mail to the development outbox: ${subject}`);
  };

  return {
    mode,
    async send(to, template, locals) {
      if (mode === 'off') return false;
      for (let attempt = 1; ; attempt++) {
        try {
          await deliver(to, template, locals);
          return true;
        } catch (error) {
          const { code, responseCode } = (error ?? {}) as {
            code?: unknown;
            responseCode?: unknown;
          };
          const wait = retryDelaysMs[attempt - 1];
          // The error's message can quote the address ("<bob@…>: Recipient address rejected").
          logger.warn(
            { event: 'mail_failed', template, to: tags.address(to), attempt, code, responseCode },
            wait === undefined ? 'mail not sent: giving up' : 'mail not sent: will try again',
          );
          if (wait === undefined) return false;
          await new Promise((resolve) => setTimeout(resolve, wait).unref());
        }
      }
    },
  };
}
