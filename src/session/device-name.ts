import Bowser from 'bowser';

/**
 * A user agent in words, as a person recognises their devices: "Firefox 132 on Linux",
 * "Safari 17 on iOS 17.5". Parsed with bowser (MIT, maintained); ua-parser-js, the other common
 * choice, is AGPL from version 2, which would bind every site built on this one.
 */
export function describeDevice(userAgent: string | undefined): string {
  if (!userAgent) return 'An unknown browser';
  const { browser, os } = Bowser.parse(userAgent);
  const browserName = browser.name
    ? [browser.name, browser.version?.split('.')[0]].filter(Boolean).join(' ')
    : 'An unknown browser';
  const system = [os.name, os.versionName ?? os.version].filter(Boolean).join(' ');
  return system ? `${browserName} on ${system}` : browserName;
}
