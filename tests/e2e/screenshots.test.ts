import type { Browser } from 'playwright-core';
import { launchChromium, withFreshPage } from './chromium';
import { startSite, type Site } from './site';
import { pageText, pageTour, readText, signInPhone } from './tour';

let site: Site;
let chromium: Browser;
beforeAll(async () => {
  [site, chromium] = await Promise.all([startSite(), launchChromium()]);
});
afterAll(async () => {
  await chromium?.close();
  await site?.stop();
});

describe('the README’s screenshots', () => {
  it('show every page as it is now: each page’s text is the text its pictures were taken with', async () => {
    await signInPhone(chromium, site);
    const stale: string[] = [];
    await withFreshPage(chromium, (page) =>
      pageTour(page, site, async (name) => {
        if ((await pageText(page)) !== readText(name)) stale.push(name);
      }),
    );
    // Run `npm run screenshots` (and commit docs/screenshots/) after changing any of these.
    expect(stale).toEqual([]);
  }, 90_000);
});
