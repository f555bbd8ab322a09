import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Browser } from './browser';
import { createTestApp, type TestApp, type TestAppOptions } from './test-app';

/** A real SMTP server on 127.0.0.1 for the tests: it receives, parses and keeps every message. */
export interface MailServer {
  /** smtp://127.0.0.1:<port>, for MAIL_URL. */
  url: string;
  messages: ParsedMail[];
  /**
   * The next message to `to` (one already received counts), within `ms`; with `subject`, the
   * next with that subject (other messages to `to` are left for later calls).
   */
  next(to: string, subject?: string, ms?: number): Promise<ParsedMail>;
  /** While on, every recipient is refused with a 550, as a server that will not relay. */
  refuse(on: boolean): void;
  stop(): Promise<void>;
}

export async function startMailServer(): Promise<MailServer> {
  const messages: ParsedMail[] = [];
  const waiting: (() => void)[] = [];
  let refusing = false;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      callback(
        refusing ? Object.assign(new Error('Relay denied'), { responseCode: 550 }) : undefined,
      );
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          messages.push(mail);
          for (const wake of waiting.splice(0)) wake();
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const to = (mail: ParsedMail) =>
    ([] as { value: { address?: string }[] }[])
      .concat(mail.to ?? [])
      .flatMap((list) => list.value.map((entry) => entry.address));

  const taken = new Set<ParsedMail>();
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async next(address, subject, ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = messages.find(
          (mail) =>
            !taken.has(mail) &&
            to(mail).includes(address) &&
            (subject === undefined || mail.subject === subject),
        );
        if (found) {
          taken.add(found);
          return found;
        }
        if (Date.now() > deadline) throw new Error(`no message to ${address} within ${ms} ms`);
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    refuse(on) {
      refusing = on;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a message's text body. */
export function linkIn(mail: ParsedMail): string {
  const link = /https?:\/\/\S+/.exec(mail.text ?? '')?.[0];
  if (!link) throw new Error(`no link in "${mail.subject}"`);
  return link;
}

/** Follows a mailed link as the person would, on the app under test: its path, in `browser`. */
export function follow(browser: Browser, link: string) {
  return browser.get(new URL(link).pathname);
}

/**
 * Follows a verification link and presses "Confirm" on the page it leads to, as the person
 * would: the link alone confirms nothing. The answer to the confirmation.
 */
export async function confirmAddress(browser: Browser, link: string) {
  const landed = await follow(browser, link);
  if (landed.status !== 303) return landed;
  return browser.submit('/email/verify', {});
}

/**
 * A test app whose mail goes to an SMTP server of its own; `t.close()` stops both. Every test
 * client is 127.0.0.1, so the limits on mailed links are raised here: password-reset.test.ts
 * tests them on their own.
 */
export async function createTestAppWithMail(
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<{ t: TestApp; mail: MailServer }> {
  const mail = await startMailServer();
  const app = await createTestApp(
    { MAIL_URL: mail.url, EMAIL_LINKS_PER_ADDRESS: '100', EMAIL_LINKS_PER_IP: '1000', ...env },
    options,
  );
  const close = async () => {
    await app.close();
    await mail.stop();
  };
  return { t: { ...app, close }, mail };
}
