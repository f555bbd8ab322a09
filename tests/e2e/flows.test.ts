/// <reference lib="dom" />
// (The functions passed to page.evaluate run in the browser, where the DOM types apply.)
import fs from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../seeds/demo-user';
import { launchChromium, withFreshPage } from './chromium';
import { codeFor } from '../helpers/two-factor';
import { followMailedLink, startOtherSite, startSite, submitLogin, type Site } from './site';

let site: Site;
let chromium: Browser;
beforeAll(async () => {
  [site, chromium] = await Promise.all([startSite(), launchChromium()]);
});
afterAll(async () => {
  await chromium?.close();
  await site?.stop();
});

const GOOD_PASSWORD = 'a walk along the river at dusk';
const pathOf = (page: Page) => new URL(page.url()).pathname;
const heading = (page: Page) => page.locator('h1').innerText();
const historyList = (page: Page) => page.locator('ol.history li').allInnerTexts();

async function sessionCookie(context: BrowserContext) {
  return (await context.cookies()).find((cookie) => cookie.name === 'sid');
}

describe('a new visitor, from registration to logout', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    context = await chromium.newContext();
    page = await context.newPage();
  });
  afterAll(() => context.close());

  it('a password that breaks the rules is explained next to its field', async () => {
    await page.goto(`${site.url}/register`);
    await page.getByLabel('Username').fill('river_walker');
    await page.getByLabel('Password').fill('too short');
    await page.getByRole('button', { name: 'Create account' }).click();

    expect(pathOf(page)).toBe('/register');
    const password = page.getByLabel('Password');
    const error = page.locator('#password-error');
    expect(await error.innerText()).toContain('Use at least 15 characters.');
    expect(await password.getAttribute('aria-invalid')).toBe('true');
    expect(await password.getAttribute('aria-describedby')).toContain('password-error');
    // Next to the field: in the same group, just below the input.
    expect(await page.locator('.field:has(#password) #password-error').count()).toBe(1);
    const [field, message] = await Promise.all([password.boundingBox(), error.boundingBox()]);
    const fieldBottom = (field?.y ?? NaN) + (field?.height ?? NaN);
    expect(message?.y).toBeGreaterThanOrEqual(fieldBottom);
    expect((message?.y ?? NaN) - fieldBottom).toBeLessThan(40);
    // What was typed in the other field is kept.
    expect(await page.getByLabel('Username').inputValue()).toBe('river_walker');
  });

  it('a good password registers the account and lands on the dashboard', async () => {
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(pathOf(page)).toBe('/dashboard');
    expect(await heading(page)).toBe('Dashboard');
    expect(await page.locator('main').innerText()).toContain('Signed in as river_walker');
  });

  it('the pages visited appear in the page history, newest first', async () => {
    for (const link of ['Home', 'About', 'Contact']) {
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: link })
        .click();
    }
    expect(pathOf(page)).toBe('/contact');
    expect((await historyList(page)).slice(0, 4)).toEqual([
      '/contact',
      '/about',
      '/',
      '/dashboard',
    ]);
  });

  it('page scripts cannot read the session cookie', async () => {
    const cookie = await sessionCookie(context);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    const visible = await page.evaluate(() => document.cookie);
    expect(visible).not.toContain('sid=');
    expect(visible).not.toContain(cookie?.value);
  });

  it('the logout button ends the session and clears the cookie', async () => {
    await page.goto(`${site.url}/dashboard`);
    await page.getByRole('button', { name: 'Log out' }).click();
    expect(pathOf(page)).toBe('/');
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link', { name: 'Log in' }).count()).toBe(1);
    expect(await nav.getByRole('button', { name: 'Log out' }).count()).toBe(0);
    expect(await sessionCookie(context)).toBeUndefined();
  });

  it('Back after logout shows no private page', async () => {
    await page.goBack();
    // The dashboard was sent with no-store: going back asks the server again, which sends the
    // signed-out browser to the login form.
    expect(pathOf(page)).toBe('/login');
    expect(await page.locator('body').innerText()).not.toContain('Signed in as');
  });
});

describe('a returning visitor', () => {
  it('is sent to log in and then back to the page asked for, via next', async () => {
    await withFreshPage(chromium, async (page) => {
      await page.goto(`${site.url}/account`);
      expect(pathOf(page)).toBe('/login');
      expect(new URL(page.url()).searchParams.get('next')).toBe('/account');
      await submitLogin(page);
      expect(pathOf(page)).toBe('/account');
      expect(await heading(page)).toBe('Your account');
    });
  });
});

describe('password fields', () => {
  it('carry the autocomplete a password manager needs, on every form', async () => {
    await withFreshPage(chromium, async (page) => {
      const autocompleteOf = (selector: string) =>
        page.locator(selector).getAttribute('autocomplete');
      await page.goto(`${site.url}/register`);
      expect(await autocompleteOf('#username')).toBe('username');
      expect(await autocompleteOf('#password')).toBe('new-password');
      await page.goto(`${site.url}/login?next=/account`);
      expect(await autocompleteOf('#username')).toBe('username');
      expect(await autocompleteOf('#password')).toBe('current-password');
      await submitLogin(page);
      const types = await page
        .locator('input[type=password]')
        .evaluateAll((inputs) =>
          inputs.map((input) => `${input.id}:${input.getAttribute('autocomplete')}`),
        );
      expect(types).toEqual(expect.arrayContaining([expect.stringMatching(/:current-password$/)]));
      expect(types).toEqual(expect.arrayContaining([expect.stringMatching(/:new-password$/)]));
      expect(types.every((t) => /:(current|new)-password$/.test(t))).toBe(true);
    });
  });

  it('accept a pasted password, and logging in with it works', async () => {
    await withFreshPage(chromium, async (page, context) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
        origin: site.url,
      });
      await page.goto(`${site.url}/login`);
      await page.evaluate((text) => navigator.clipboard.writeText(text), DEMO_PASSWORD);
      await page.getByLabel('Username').fill(DEMO_USERNAME);
      await page.getByLabel('Password').focus();
      await page.keyboard.press('Control+V');
      expect(await page.getByLabel('Password').inputValue()).toBe(DEMO_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      expect(pathOf(page)).toBe('/dashboard');
    });
  });
});

describe('a form on another site', () => {
  it('cannot post to this one: refused, and the visitor stays signed in', async () => {
    const other = await startOtherSite(`${site.url}/logout`, { _csrf: 'guessed' });
    try {
      await withFreshPage(chromium, async (page) => {
        await page.goto(`${site.url}/login`);
        await submitLogin(page);
        expect(pathOf(page)).toBe('/dashboard');

        const refused = page.waitForResponse((response) => response.url() === `${site.url}/logout`);
        await page.goto(other.url);
        const response = await refused;
        expect(response.status()).toBe(403);
        await page.waitForURL(`${site.url}/logout`);
        expect(await heading(page)).toBe('This form has expired');

        await page.goto(`${site.url}/dashboard`);
        expect(pathOf(page)).toBe('/dashboard');
        expect(await page.locator('main').innerText()).toContain(`Signed in as ${DEMO_USERNAME}`);
      });
    } finally {
      await other.stop();
    }
  });
});

describe('your sessions, in two browsers', () => {
  it('the first browser signs the second out, and the second is anonymous at once', async () => {
    const username = 'two_browsers';
    const [first, second] = await Promise.all([chromium.newContext(), chromium.newContext()]);
    try {
      const laptop = await first.newPage();
      await laptop.goto(`${site.url}/register`);
      await laptop.getByLabel('Username').fill(username);
      await laptop.getByLabel('Password').fill(GOOD_PASSWORD);
      await laptop.getByRole('button', { name: 'Create account' }).click();
      await laptop.waitForURL(`${site.url}/dashboard`);

      const phone = await second.newPage();
      await phone.goto(`${site.url}/login`);
      await submitLogin(phone, username, GOOD_PASSWORD);
      await phone.waitForURL(`${site.url}/dashboard`);

      await laptop.getByRole('link', { name: 'every browser signed in to your account' }).click();
      expect(pathOf(laptop)).toBe('/account/sessions');
      const cards = laptop.locator('.session-list > li');
      expect(await cards.count()).toBe(2);
      const mine = cards.filter({ hasText: 'This device' });
      expect(await mine.count()).toBe(1);
      expect(await mine.getByRole('button').count()).toBe(0);

      await cards
        .filter({ hasNotText: 'This device' })
        .getByRole('button', { name: 'Sign out this session' })
        .click();
      await laptop.waitForURL(`${site.url}/account/sessions`);
      expect(await laptop.locator('.flash').innerText()).toContain('signed out');
      expect(await laptop.locator('.session-list > li').count()).toBe(1);

      await phone.reload();
      expect(pathOf(phone)).toBe('/login');
      await phone.goto(`${site.url}/account`);
      expect(pathOf(phone)).toBe('/login');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('a way back in, through the development outbox', () => {
  it('verify an address, forget the password, reset it by the mailed link, log in with the new one', async () => {
    const username = 'way_back';
    const email = 'way.back@example.org';
    const newPassword = 'lanterns found again by the harbour';
    await withFreshPage(chromium, async (page) => {
      await followMailedLink(page, site, 'Confirm your e-mail address', async () => {
        await page.goto(`${site.url}/register`);
        await page.getByLabel('Username').fill(username);
        await page.getByLabel('Password').fill(GOOD_PASSWORD);
        await page.getByLabel('E-mail address (optional)').fill(email);
        await page.getByRole('button', { name: 'Create account' }).click();
        await page.waitForURL(`${site.url}/dashboard`);
      });
      // The link leads to a page that asks; only its button confirms.
      expect(pathOf(page)).toBe('/email/verify');
      expect(await heading(page)).toBe('Confirm your e-mail address');
      await page.getByRole('button', { name: 'Confirm this address' }).click();
      expect(pathOf(page)).toBe('/account');
      expect(await page.locator('.flash').innerText()).toContain(
        'Your e-mail address is confirmed.',
      );
      await page.getByRole('button', { name: 'Log out' }).click();

      await followMailedLink(page, site, 'Reset your password', async () => {
        await page.goto(`${site.url}/login`);
        await page.getByRole('link', { name: 'Forgot your password?' }).click();
        await page.getByLabel('E-mail address').fill(email);
        await page.getByRole('button', { name: 'Send the link' }).click();
        expect(await heading(page)).toBe('Check your e-mail');
      });
      // The token has left the address bar.
      expect(pathOf(page)).toBe('/password/reset');
      expect(page.url()).toBe(`${site.url}/password/reset`);
      await page.getByLabel('New password').fill(newPassword);
      await page.getByRole('button', { name: 'Set the new password' }).click();
      expect(pathOf(page)).toBe('/login');
      expect(await page.locator('.flash').innerText()).toContain('Log in with your new password.');

      await submitLogin(page, username, newPassword);
      await page.waitForURL(`${site.url}/dashboard`);
    });
  });
});

describe('two-factor sign-in, set up and used in the browser', () => {
  let context: BrowserContext;
  let page: Page;
  let key = '';
  let recoveryCode = '';
  beforeAll(async () => {
    context = await chromium.newContext();
    page = await context.newPage();
    await page.goto(`${site.url}/register`);
    await page.getByLabel('Username').fill('two_step_walker');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${site.url}/dashboard`);
  });
  afterAll(() => context.close());

  const axeViolations = async () =>
    (
      await new AxeBuilder({ page })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
        .analyze()
    ).violations.map((v) => `${v.id}: ${v.help}`);

  it('the account page leads to the set-up: a QR code, the key as text, the otpauth link', async () => {
    await page.goto(`${site.url}/account`);
    await page.getByRole('link', { name: /Two-factor sign-in/ }).click();
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    expect(pathOf(page)).toBe('/account/two-factor');
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    expect(await qr.isVisible()).toBe(true);
    expect((await qr.boundingBox())?.width).toBeGreaterThanOrEqual(150);
    key = (await page.locator('.setup-key').innerText()).replace(/\s/g, '');
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
    const link = await page
      .getByRole('link', { name: 'open the app with it' })
      .getAttribute('href');
    expect(link).toContain(`secret=${key}`);
    expect(await axeViolations()).toEqual([]);
  });

  it("the app's code turns it on, and the recovery codes are shown once, to download", async () => {
    await page.getByLabel('Code from the app').fill(codeFor(key));
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    const codes = await page.locator('ul.recovery-codes code').allInnerTexts();
    expect(codes).toHaveLength(10);
    recoveryCode = codes[0] ?? '';
    const download = page.getByRole('link', { name: 'Download the codes as a text file' });
    expect(await download.getAttribute('download')).toBe('session-starter-recovery-codes.txt');
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    const saved = await file.path();
    expect(fs.readFileSync(saved, 'utf8').split('\n')).toEqual(codes);
    expect(await axeViolations()).toEqual([]);
    // A later visit shows how many are left, never the codes.
    await page.goto(`${site.url}/account/two-factor`);
    expect(await page.locator('ul.recovery-codes').count()).toBe(0);
    expect(await page.locator('main').innerText()).toContain('You have 10 recovery codes left.');
  });

  it('signing in again asks for the code after the password', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(`${site.url}/login`);
    await submitLogin(page, 'two_step_walker', GOOD_PASSWORD);
    await page.waitForURL(`${site.url}/login/two-factor`);
    const field = page.getByLabel('Code');
    expect(await field.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await field.getAttribute('inputmode')).toBe('numeric');
    expect(await axeViolations()).toEqual([]);
    await field.fill('000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.locator('#code-error').innerText()).toContain('That code is not right');
    await page.getByLabel('Code').fill(codeFor(key, 1));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${site.url}/dashboard`);
  });

  it('a recovery code signs in in place of the app', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(`${site.url}/login`);
    await submitLogin(page, 'two_step_walker', GOOD_PASSWORD);
    await page.waitForURL(`${site.url}/login/two-factor`);
    await page.getByLabel('Code').fill(recoveryCode);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${site.url}/dashboard`);
    expect(await page.getByRole('status').innerText()).toContain('recovery code');
    await page.goto(`${site.url}/account/two-factor`);
    expect(await page.locator('main').innerText()).toContain('You have 9 recovery codes left.');
  });
});
