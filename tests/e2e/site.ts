import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { hashPassword } from '../../src/auth/passwords';
import { createAccount } from '../../src/auth/users';
import { createDatabase } from '../../src/db';
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../seeds/demo-user';
import { freePort, startServer, type ServerProcess } from '../helpers/server-process';

export interface Site {
  url: string;
  server: ServerProcess;
  stop(): Promise<void>;
}

/**
 * The site as `npm run dev` serves it (development settings, the demo account), on a free port
 * with a fresh SQLite file of its own.
 */
export async function startSite(): Promise<Site> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-starter-e2e-'));
  const databaseUrl = `sqlite:${path.join(dir, 'e2e.sqlite3')}`;
  const db = createDatabase({ databaseUrl });
  try {
    await db.migrate.latest();
    await createAccount(db, {
      username: DEMO_USERNAME,
      passwordHash: await hashPassword(DEMO_PASSWORD, 10),
    });
  } finally {
    await db.destroy();
  }
  const server = await startServer({ NODE_ENV: 'development', DATABASE_URL: databaseUrl });
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
