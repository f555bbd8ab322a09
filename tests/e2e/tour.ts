/// <reference lib="dom" />
// (The function passed to page.evaluate runs in the browser, where the DOM types apply.)
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DEMO_USERNAME } from '../../seeds/demo-user';
import { projectRoot } from '../../src/paths';
import { codeFor } from '../helpers/two-factor';
import { DEMO_EMAIL, followMailedLink, submitLogin, type Site } from './site';

/** Where `npm run screenshots` keeps each page's picture, and the text it shows. */
export const SCREENSHOTS = path.join(projectRoot, 'docs', 'screenshots');

/** A second device signed in to the demo account, so that "Your sessions" lists two. */
export async function signInPhone(chromium: Browser, site: Site): Promise<void> {
  const phone = await chromium.newContext({
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 ' +
      '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  });
  const page = await phone.newPage();
  await page.goto(`${site.url}/login`);
  await submitLogin(page);
  await phone.close();
}

/**
 * The pages the README shows, in the state it shows them, each handed to `at` with its name:
 * `npm run screenshots` takes their pictures, and the browser tests check that each still shows
 * the text its picture was taken with.
 */
export async function pageTour(
  page: Page,
  site: Site,
  at: (name: string) => Promise<void>,
): Promise<void> {
  await page.goto(`${site.url}/`);
  await at('home');

  await page.goto(`${site.url}/login`);
  await submitLogin(page, DEMO_USERNAME, 'not the right password');
  await at('login-error');

  await page.goto(`${site.url}/login`);
  await submitLogin(page);
  // A few pages first, so the dashboard's footer shows a history.
  for (const path of ['/about', '/contact', '/', '/dashboard']) {
    await page.goto(`${site.url}${path}`);
  }
  await at('dashboard');

  await page.goto(`${site.url}/account`);
  await at('account');

  await page.goto(`${site.url}/account/sessions`);
  await at('sessions');

  await page.goto(`${site.url}/session`);
  await at('session-panel');

  // The way back in: the form, the outbox where development mail goes, the new password.
  await page.getByRole('button', { name: 'Log out' }).click();
  await followMailedLink(page, site, 'Reset your password', async () => {
    await page.goto(`${site.url}/password/forgot`);
    await page.getByLabel('E-mail address').fill(DEMO_EMAIL);
    await at('forgot-password');
    await page.getByRole('button', { name: 'Send the link' }).click();
  });
  await at('reset-password');
  await page.goto(`${site.url}/dev/outbox`);
  await page.getByRole('link', { name: 'Reset your password' }).first().click();
  await at('outbox-message');

  // Two-factor sign-in: its set-up page, and the code page a sign-in then asks for. Turned off
  // again at the end, so the tour can run again on the same site.
  await page.goto(`${site.url}/login`);
  await submitLogin(page);
  await page.goto(`${site.url}/account/two-factor`);
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  await at('two-factor-setup');
  const key = (await page.locator('.setup-key').innerText()).replace(/\s/g, '');
  await page.getByLabel('Code from the app').fill(codeFor(key));
  await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.goto(`${site.url}/login`);
  await submitLogin(page);
  await at('second-step');
  await page.getByLabel('Code').fill(codeFor(key, 1));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto(`${site.url}/account/two-factor`);
  await page.getByRole('button', { name: 'Turn off two-factor sign-in' }).click();
  await page.getByRole('button', { name: 'Log out' }).click();

  // Passkeys, at localhost (never at an IP address), made by Chromium's virtual authenticator;
  // removed again at the end.
  const local = site.url.replace('127.0.0.1', 'localhost');
  await addVirtualAuthenticator(page);
  await page.goto(`${local}/login`);
  await submitLogin(page);
  await page.goto(`${local}/account/passkeys`);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.waitForSelector('text=Your passkey was added.');
  await page.getByLabel('Name').fill('This laptop');
  await page.getByRole('button', { name: 'Rename' }).click();
  // The button appears once the page's script finds a browser that can make passkeys.
  await page.getByRole('button', { name: 'Add a passkey' }).waitFor();
  await at('passkeys');
  await page.getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('button', { name: 'Log out' }).click();
}

/**
 * A passkey authenticator for `page`, through the DevTools Protocol: like a laptop's fingerprint
 * reader, it keeps discoverable credentials, verifies its user, and says yes to every request.
 */
export async function addVirtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

/**
 * The words a page shows, as its picture shows them: its title and main content, without what
 * differs from run to run (times, ids and tokens in <code>, <pre>, <time> and <dd>, links with a
 * host and port, numbers).
 */
export async function pageText(page: Page): Promise<string> {
  const text = await page.evaluate(() => {
    const main = document.querySelector('main');
    if (!main) return document.title;
    const copy = main.cloneNode(true) as HTMLElement;
    copy.querySelectorAll('time, code, pre, dd, input').forEach((element) => element.remove());
    // innerText needs a rendered element: shown for as long as it takes to read it.
    document.body.append(copy);
    const words = copy.innerText;
    copy.remove();
    return `${document.title}\n${words}`;
  });
  return text
    .replace(/https?:\/\/\S+/g, '<link>')
    .replace(/\d+/g, '#')
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n')
    .concat('\n');
}

/** The text file kept beside a page's pictures. */
export const textFile = (name: string) => path.join(SCREENSHOTS, `${name}.txt`);

export const readText = (name: string) =>
  fs.existsSync(textFile(name)) ? fs.readFileSync(textFile(name), 'utf8') : undefined;
