import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { hashPassword } from '../../src/passwords/passwords';
import { createAccount, markEmailVerified } from '../../src/accounts/users';
import { createDatabase } from '../../src/db';
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../seeds/demo-user';
import { freePort, startServer, type ServerProcess } from '../helpers/server-process';

/** The demo account's address in the browser tests, verified, for the password reset flow. */
export const DEMO_EMAIL = 'demo@example.org';

export interface Site {
  url: string;
  server: ServerProcess;
  stop(): Promise<void>;
}

/**
 * The site as `npm run dev` serves it (development settings, the demo account), on a free port
 * with a fresh SQLite file of its own; `env` adds to its settings.
 */
export async function startSite(env: Record<string, string> = {}): Promise<Site> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-starter-e2e-'));
  const databaseUrl = `sqlite:${path.join(dir, 'e2e.sqlite3')}`;
  const db = createDatabase({ databaseUrl });
  try {
    await db.migrate.latest();
    const { user } = await createAccount(db, {
      username: DEMO_USERNAME,
      passwordHash: await hashPassword(DEMO_PASSWORD, 10),
      pendingEmail: DEMO_EMAIL,
    });
    await markEmailVerified(db, user.id, DEMO_EMAIL);
  } finally {
    await db.destroy();
  }
  // Development without MAIL_URL: mail goes to an outbox (of its own here), shown at /dev/outbox.
  const server = await startServer({
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    MAIL_OUTBOX_DIR: path.join(dir, 'outbox'),
    ...env,
  });
  return {
    url: server.url,
    server,
    async stop() {
      server.child.kill('SIGTERM');
      await server.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Another site on another port: its one page holds a form that posts to `target` the moment it
 * loads, as a page trying a cross-site request forgery would.
 */
export async function startOtherSite(
  target: string,
  fields: Record<string, string>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join('');
  const page =
    '<!doctype html><title>Win a prize</title>' +
    `<form id="f" method="post" action="${target}">${inputs}</form>` +
    '<script>document.getElementById("f").submit()</script>';
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(page);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Fills in and submits the login form on the current page, as a person would. */
export async function submitLogin(page: Page, username = DEMO_USERNAME, password = DEMO_PASSWORD) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/**
 * Does what sends a message (`send`), then waits for that message to reach the development
 * outbox and follows the link in it. Mail is written just after the answer that caused it, so
 * the outbox is counted before `send`: the newest message with this subject is not enough, it
 * may be an earlier one whose link a later request has already replaced.
 */
export async function followMailedLink(
  page: Page,
  site: Site,
  subject: string,
  send: () => Promise<unknown>,
): Promise<void> {
  const sent = async () => {
    await page.goto(`${site.url}/dev/outbox`);
    return page.getByRole('link', { name: subject, exact: true }).count();
  };
  const before = await sent();
  await send();
  const deadline = Date.now() + 10_000;
  while ((await sent()) <= before) {
    if (Date.now() > deadline) throw new Error(`no new "${subject}" in the outbox`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await page.getByRole('link', { name: subject, exact: true }).first().click();
  await page.locator('main ul a').first().click();
}
