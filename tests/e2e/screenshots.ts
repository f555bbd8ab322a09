/// <reference lib="dom" />
// `npm run screenshots`: PNGs of the main pages at desktop and phone widths, in light and dark,
// under docs/screenshots/ (the README shows them). Run it again whenever a page changes.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../seeds/demo-user';
import { projectRoot } from '../../src/paths';
import { launchChromium } from './chromium';
import { startSite } from './site';

const OUT = path.join(projectRoot, 'docs', 'screenshots');

const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true },
} as const;

async function logIn(page: Page, url: string) {
  await page.goto(`${url}/login`);
  await page.getByLabel('Username').fill(DEMO_USERNAME);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const [site, chromium] = await Promise.all([startSite(), launchChromium()]);
  try {
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
        await page.getByLabel('Username').fill(DEMO_USERNAME);
        await page.getByLabel('Password').fill('not the right password');
        await page.getByRole('button', { name: 'Log in' }).click();
        await shot('login-error');

        await logIn(page, site.url);
        for (const link of ['About', 'Contact', 'Home', 'Dashboard']) {
          await page.goto(`${site.url}${link === 'Home' ? '/' : `/${link.toLowerCase()}`}`);
        }
        await shot('dashboard');

        await page.goto(`${site.url}/account`);
        await shot('account');
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
