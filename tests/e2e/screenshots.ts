/// <reference lib="dom" />
// `npm run screenshots`: PNGs of the main pages at desktop and phone widths, in light and dark,
// under docs/screenshots/ (the README shows them). Run it again whenever a page changes.
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_USERNAME } from '../../seeds/demo-user';
import { projectRoot } from '../../src/paths';
import { launchChromium } from './chromium';
import { DEMO_EMAIL, followMailedLink, startSite, submitLogin } from './site';

const OUT = path.join(projectRoot, 'docs', 'screenshots');

const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true },
} as const;

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const [site, chromium] = await Promise.all([startSite(), launchChromium()]);
  try {
    // A second device signed in to the demo account, so "Your sessions" has more than one.
    const phone = await chromium.newContext({
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 ' +
        '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    });
    const phonePage = await phone.newPage();
    await phonePage.goto(`${site.url}/login`);
    await submitLogin(phonePage);
    await phone.close();

    for (const [device, options] of Object.entries(VIEWPORTS)) {
      for (const colorScheme of ['light', 'dark'] as const) {
        const context = await chromium.newContext({ ...options, colorScheme });
        const page = await context.newPage();
        const shot = async (name: string) => {
          const file = path.join(OUT, `${name}-${device}-${colorScheme}.png`);
          await page.screenshot({ path: file, fullPage: true });
          console.log(path.relative(projectRoot, file));
        };

        await page.goto(`${site.url}/`);
        await shot('home');

        await page.goto(`${site.url}/login`);
        await submitLogin(page, DEMO_USERNAME, 'not the right password');
        await shot('login-error');

        await page.goto(`${site.url}/login`);
        await submitLogin(page);
        // A few pages first, so the dashboard's footer shows a history.
        for (const path of ['/about', '/contact', '/', '/dashboard']) {
          await page.goto(`${site.url}${path}`);
        }
        await shot('dashboard');

        await page.goto(`${site.url}/account`);
        await shot('account');

        await page.goto(`${site.url}/account/sessions`);
        await shot('sessions');

        await page.goto(`${site.url}/session`);
        await shot('session-panel');

        // The way back in: the form, the outbox where development mail goes, the new password.
        await page.getByRole('button', { name: 'Log out' }).click();
        await followMailedLink(page, site, 'Reset your password', async () => {
          await page.goto(`${site.url}/password/forgot`);
          await page.getByLabel('E-mail address').fill(DEMO_EMAIL);
          await shot('forgot-password');
          await page.getByRole('button', { name: 'Send the link' }).click();
        });
        await shot('reset-password');
        await page.goto(`${site.url}/dev/outbox`);
        await page.getByRole('link', { name: 'Reset your password' }).first().click();
        await shot('outbox-message');
        await context.close();
      }
    }
  } finally {
    await chromium.close();
    await site.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
