/// <reference lib="dom" />
// Passkeys in a real browser: Chromium's own WebAuthn, with the DevTools Protocol's virtual
// authenticator in place of a phone or a security key (a platform authenticator that keeps
// discoverable credentials and verifies its user). The site at localhost: passkeys belong to a
// name, never to 127.0.0.1.
import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { startSite, type Site } from './site';
import { addVirtualAuthenticator } from './tour';

let site: Site;
let chromium: Browser;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let authenticatorId = '';
let local = '';

const USERNAME = 'passkey_walker';
const PASSWORD = 'a kettle singing in the kitchen';

beforeAll(async () => {
  [site, chromium] = await Promise.all([startSite(), launchChromium()]);
  local = site.url.replace('127.0.0.1', 'localhost');
  context = await chromium.newContext();
  page = await context.newPage();
  ({ cdp, authenticatorId } = await addVirtualAuthenticator(page));
  await page.goto(`${local}/register`);
  await page.getByLabel('Username').fill(USERNAME);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${local}/dashboard`);
});
afterAll(async () => {
  await chromium?.close();
  await site?.stop();
});

const pathOf = () => new URL(page.url()).pathname;
const credentials = async () =>
  (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
const axeViolations = async () =>
  (
    await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  ).violations.map((v) => `${v.id}: ${v.help}`);

describe('passkeys in Chromium, with a virtual authenticator', () => {
  it('adds a passkey from the account page', async () => {
    await page.goto(`${local}/account`);
    await page.getByRole('link', { name: /Passkeys/ }).click();
    expect(await page.locator('main').innerText()).toContain('You have no passkeys yet.');
    expect(await axeViolations()).toEqual([]);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForSelector('text=Your passkey was added.');
    expect(pathOf()).toBe('/account/passkeys');
    const [credential] = await credentials();
    expect(credential).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
    expect(await page.locator('.passkey-list h2').allInnerTexts()).toEqual(['Passkey 1']);
    expect(await axeViolations()).toEqual([]);
  });

  it("signs in with it from the username field's autofill", async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    // The page asks for a conditional (autofill) sign-in as it loads (the username field says
    // `autocomplete="username webauthn"`). The virtual authenticator answers it at once, as a
    // person picking the passkey from the field's list would: the page may be gone before it
    // has finished loading.
    await page.goto(`${local}/login`, { waitUntil: 'commit' });
    await page.waitForURL(`${local}/dashboard`);
    await page.goto(`${local}/account/sessions`);
    expect(await page.locator('main').innerText()).toContain('Signed in with\nPasskey');
  });

  it('signs in with it from the button, in a browser without passkey autofill', async () => {
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
    });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(`${local}/login`);
    expect(await axeViolations()).toEqual([]);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${local}/dashboard`);
  });

  it('removes it, and it signs in no more', async () => {
    await page.goto(`${local}/account/passkeys`);
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.waitForSelector('text=The passkey was removed.');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(`${local}/login`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForSelector('text=That passkey did not sign you in.');
    expect(pathOf()).toBe('/login/passkey');
  });
});
