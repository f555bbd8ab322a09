import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import { follow, linkIn, startMailServer, type MailServer } from './helpers/mail-server';
import { markEmailVerified, setPendingEmail } from '../src/accounts/users';
import { createTestApp, PASSWORD, PRODUCTION_ENV, type TestApp } from './helpers/test-app';

/** Requests as a proxy forwards them: TRUST_PROXY=1 and the client's address in X-Forwarded-For. */
const from = (address: string) => ({ headers: { 'X-Forwarded-For': address } });

const LIMITS = {
  TRUST_PROXY: '1',
  LOGIN_FAILURES_PER_PAIR: '3',
  LOGIN_FAILURES_PER_ACCOUNT: '8',
  LOGIN_FAILURES_PER_IP: '10000',
};

/** Eight wrong guesses from four addresses: the account's ceiling, no address past its own. */
async function lockOut(t: TestApp, username: string, prefix = '192.0.2') {
  for (const host of [1, 2, 3, 4]) {
    for (let i = 0; i < 2; i++) {
      const res = await new Browser(t.app).submit(
        '/login',
        { username, password: 'a wrong guess' },
        from(`${prefix}.${host}`),
      );
      expect(res.status).toBe(401);
    }
  }
  const stranger = await new Browser(t.app).submit(
    '/login',
    { username, password: PASSWORD },
    from('198.51.100.200'),
  );
  expect(stranger.status).toBe(429);
}

describe('a browser that has signed in before (device cookies)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(LIMITS);
  });
  afterAll(() => t.close());

  it('SECURITY+ 25: guesses from many addresses lock the account for new browsers, not for its owner’s', async () => {
    const owner = new Browser(t.app);
    await owner.submit('/register', { username: 'besieged_owner', password: PASSWORD });
    expect(owner.cookie('device')).toBeDefined();
    await owner.submit('/logout', {}, { from: '/' });
    await lockOut(t, 'besieged_owner');

    // From anywhere, even an address that has never been seen: the browser is what counts.
    const back = await owner.submit(
      '/login',
      { username: 'besieged_owner', password: PASSWORD },
      from('203.0.113.99'),
    );
    expect(back.status).toBe(303);
  });

  it('SECURITY+ 25: a known browser has an allowance of its own, spent by its own failures', async () => {
    const owner = new Browser(t.app);
    await owner.submit('/register', { username: 'clumsy_owner', password: PASSWORD });
    await owner.submit('/logout', {}, { from: '/' });
    for (let i = 0; i < 3; i++) {
      const res = await owner.submit('/login', { username: 'clumsy_owner', password: 'typo' });
      expect(res.status).toBe(401);
    }
    const res = await owner.submit('/login', { username: 'clumsy_owner', password: PASSWORD });
    expect(res.status).toBe(429);
    // Its failures were its own: a new browser (from another address) is not held back by them.
    const other = await new Browser(t.app).submit(
      '/login',
      { username: 'clumsy_owner', password: PASSWORD },
      from('198.51.100.77'),
    );
    expect(other.status).toBe(303);
  });

  it('SECURITY+ 25: the cookie speaks for the account it was made for, and a forged one for none', async () => {
    const owner = new Browser(t.app);
    await owner.submit('/register', { username: 'cookie_maker', password: PASSWORD });
    const cookie = String(owner.cookie('device'));
    await new Browser(t.app).submit('/register', { username: 'cookie_target', password: PASSWORD });
    await lockOut(t, 'cookie_target', '192.0.2.1');

    const borrowed = new Browser(t.app);
    borrowed.setCookie('device', cookie);
    const login = { username: 'cookie_target', password: PASSWORD };
    expect((await borrowed.submit('/login', login)).status).toBe(429);

    const forged = new Browser(t.app);
    const [id = ''] = decodeURIComponent(cookie).split('.');
    forged.setCookie('device', encodeURIComponent(`${id}.${'A'.repeat(43)}`));
    expect((await forged.submit('/login', login)).status).toBe(429);
  });

  it('SECURITY+ 25: addresses in one IPv6 /64 are one address to the per-pair count', async () => {
    await new Browser(t.app).submit('/register', { username: 'v6_target', password: PASSWORD });
    const statuses: number[] = [];
    const addresses = ['::1', '::2', '::ab:cd', ':ffff:ffff:ffff:fffe'].map(
      (host) => `2001:db8:7:7${host}`,
    );
    for (const address of addresses) {
      const res = await new Browser(t.app).submit(
        '/login',
        { username: 'v6_target', password: 'a wrong guess' },
        from(address),
      );
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

describe('the device cookie in production', () => {
  it('SECURITY+ 25: is __Host-device: HttpOnly, Secure, SameSite=Strict, Path=/, a year at most', async () => {
    const prod = await createTestApp({ ...PRODUCTION_ENV, ...LIMITS });
    try {
      const browser = new Browser(prod.app, { https: true });
      const res = await browser.submit('/register', {
        username: 'prod_device',
        password: PASSWORD,
      });
      const cookie = setCookie(res, '__Host-device');
      expect(cookie?.attributes).toMatchObject({
        httponly: true,
        secure: true,
        samesite: 'Strict',
        path: '/',
      });
      expect(cookie?.attributes.domain).toBeUndefined();
      expect(Number(cookie?.attributes['max-age'])).toBeLessThanOrEqual(365 * 86_400);
      // Nothing in it names the account.
      expect(decodeURIComponent(String(cookie?.value))).not.toContain('prod_device');
    } finally {
      await prod.close();
    }
  });
});

describe('with mail', () => {
  let mail: MailServer;
  let t: TestApp;
  beforeAll(async () => {
    mail = await startMailServer();
    t = await createTestApp({
      ...LIMITS,
      MAIL_URL: mail.url,
      PUBLIC_URL: 'https://site.example',
      EMAIL_LINKS_PER_IP: '1000',
    });
  });
  afterAll(async () => {
    await t.close();
    await mail.stop();
  });

  async function withAddress(username: string) {
    const browser = new Browser(t.app, {
      headers: {
        'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
      },
    });
    await browser.submit('/register', { username, password: PASSWORD });
    const { id } = await t.db('users').where({ username }).first();
    const email = `${username}@example.org`;
    await setPendingEmail(t.db, id, email);
    await markEmailVerified(t.db, id, email);
    return { browser, email };
  }

  it('SECURITY+ 25: a sign-in from a browser that has not signed in before is mailed to the owner', async () => {
    const { email } = await withAddress('noticed');
    const phone = new Browser(t.app, {
      headers: {
        'User-Agent':
          'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 ' +
          '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
        'X-Forwarded-For': '203.0.113.45',
      },
    });
    expect((await phone.submit('/login', { username: 'noticed', password: PASSWORD })).status).toBe(
      303,
    );
    const notice = await mail.next(email);
    expect(notice.subject).toBe('New sign-in to your account');
    expect(notice.text).toContain('Safari 17 on iOS 17.5');
    expect(notice.text).toContain('203.0.113.45');
    expect(notice.text).toMatch(/\d{4}.*UTC/);
    expect(linkIn(notice)).toBe('https://site.example/account/sessions');

    // The same browser again: known now, no second notice.
    await phone.submit('/logout', {}, { from: '/' });
    await phone.submit('/login', { username: 'noticed', password: PASSWORD });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      mail.messages.filter(
        (m) => m.subject === 'New sign-in to your account' && m.text?.includes('noticed'),
      ),
    ).toHaveLength(1);
  });

  it('SECURITY+ 25: a completed password reset makes the browser known: its owner gets in past the ceiling', async () => {
    const { email } = await withAddress('reset_owner');
    await lockOut(t, 'reset_owner', '192.0.2.2');
    const browser = new Browser(t.app);
    await browser.submit('/password/forgot', { email });
    await follow(browser, linkIn(await mail.next(email)));
    const newPassword = 'a new beginning after the siege';
    expect((await browser.submit('/password/reset', { password: newPassword })).status).toBe(303);
    const res = await browser.submit('/login', { username: 'reset_owner', password: newPassword });
    expect(res.status).toBe(303);
  });
});
