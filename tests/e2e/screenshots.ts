// `npm run screenshots`: PNGs of the main pages at desktop and phone widths, in light and dark,
// under docs/screenshots/ (the README shows them), and beside them the text each page shows
// (<name>.txt): the browser tests compare every page with it, so a page that changes without
// new pictures fails CI. Run it again whenever a page changes.
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/paths';
import { launchChromium } from './chromium';
import { startSite } from './site';
import { pageText, pageTour, SCREENSHOTS, signInPhone, textFile } from './tour';

const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true },
} as const;

async function main() {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  // The tour runs four times on one site, a minute or two in all: four reset links for the demo
  // address, and four right passwords a tour (its sign-ins and the phone's), more than the
  // defaults allow in their windows.
  const [site, chromium] = await Promise.all([
    startSite({ EMAIL_LINKS_PER_ADDRESS: '20', PASSWORD_CHECKS_PER_ACCOUNT: '40' }),
    launchChromium(),
  ]);
  try {
    for (const [device, options] of Object.entries(VIEWPORTS)) {
      for (const colorScheme of ['light', 'dark'] as const) {
        // Again each time: turning two-factor sign-in on at the tour's end signs it out.
        await signInPhone(chromium, site);
        const context = await chromium.newContext({ ...options, colorScheme });
        const page = await context.newPage();
        await pageTour(page, site, async (name) => {
          const file = path.join(SCREENSHOTS, `${name}-${device}-${colorScheme}.png`);
          await page.screenshot({ path: file, fullPage: true });
          console.log(path.relative(projectRoot, file));
          if (device === 'desktop' && colorScheme === 'light') {
            fs.writeFileSync(textFile(name), await pageText(page));
          }
        });
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
