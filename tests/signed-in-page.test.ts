import {
  expiryStep,
  readSessionTimestamp,
  sessionTimestamp,
} from '../src/session-store/knex-store';
import { Browser } from './helpers/browser';
import { runCli } from './helpers/cli';
import { setCookie, setCookies } from './helpers/cookies';
import {
  createTestApp,
  editSessionRow,
  PASSWORD,
  register,
  sessionRowOf,
  type TestApp,
} from './helpers/test-app';

// What the signed-in page does on every request, kept cheap (bench/optimisations.md) without
// giving any of it up: the session and its account read on each request, so revocations count
// at once on every instance; the session cookie sent again on a schedule, never outliving the
// server's idle window; the CSRF token reused, and still checked.

const IDLE_MINUTES = 30;
const IDLE_MS = IDLE_MINUTES * 60_000;
const STEP_MS = expiryStep(IDLE_MS);

let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  const env = { SESSION_IDLE_MINUTES: String(IDLE_MINUTES) };
  a = await createTestApp(env);
  // A second instance on the same database, as behind a load balancer.
  b = await createTestApp(env, { databaseUrl: a.databaseUrl });
});
afterAll(async () => {
  await b.close();
  await a.close();
});

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** The same browser's cookies, sent to instance B instead: the next request lands there. */
function onInstanceB(browser: Browser): Browser {
  const other = new Browser(b.app);
  for (const name of ['sid', 'csrf']) {
    const value = browser.cookie(name);
    if (value !== undefined) other.setCookie(name, value);
  }
  return other;
}

/** Signs `username` in twice: a laptop and a phone, both on instance A; the phone warmed up on B. */
async function twoSessions(username: string) {
  const laptop = new Browser(a.app, { headers: { 'User-Agent': FIREFOX } });
  await register(laptop, username);
  const phone = new Browser(a.app, { headers: { 'User-Agent': IPHONE } });
  expect((await phone.submit('/login', { username, password: PASSWORD })).status).toBe(303);
  const phoneOnB = onInstanceB(phone);
  // Served by B before the revocation: nothing B keeps may let it through afterwards.
  expect((await phoneOnB.get('/dashboard')).status).toBe(200);
  return { laptop, phone, phoneOnB };
}

async function refusedEverywhere(browser: Browser, onB: Browser) {
  const fromB = await onB.get('/dashboard');
  expect(fromB.status).toBe(302);
  expect(fromB.headers.location).toBe('/login?next=%2Fdashboard');
  expect((await browser.get('/dashboard')).status).toBe(302);
}

describe('a revoked session is refused on its very next request, on every instance', () => {
  const cli = (...args: string[]) =>
    runCli('sessions.ts', args, { NODE_ENV: 'test', DATABASE_URL: a.databaseUrl });

  it('signed out from the sessions page on A: refused on B', async () => {
    const { laptop, phone, phoneOnB } = await twoSessions('revoked_on_a');
    const page = await laptop.get('/account/sessions');
    const handle = /name="session" value="([\w-]{22})"/.exec(
      page.text.split('<li class="card"').find((card) => card.includes('Safari')) ?? '',
    )?.[1];
    const res = await laptop.submit(
      '/account/sessions/revoke',
      { session: String(handle) },
      { from: '/account/sessions' },
    );
    expect(res.status).toBe(303);
    expect(await sessionRowOf(a.db, phone.cookie('sid'))).toBeUndefined();
    await refusedEverywhere(phone, phoneOnB);
    expect((await laptop.get('/dashboard')).status).toBe(200);
  });

  it('a password change on A: the other session is refused on B', async () => {
    const { laptop, phone, phoneOnB } = await twoSessions('changed_on_a');
    const res = await laptop.submit(
      '/account/password',
      { current_password: PASSWORD, new_password: 'another long and sturdy passphrase' },
      { from: '/account' },
    );
    expect(res.status).toBe(303);
    await refusedEverywhere(phone, phoneOnB);
    expect((await laptop.get('/dashboard')).status).toBe(200);
  });

  it('a password changed in the table by someone else (another instance mid-request): refused', async () => {
    // Not through any route: the stamp check on the account read with the session catches it.
    const { phone, phoneOnB } = await twoSessions('changed_in_table');
    await a.db('users').where({ username: 'changed_in_table' }).update({ password_hash: 'x' });
    await refusedEverywhere(phone, phoneOnB);
    expect(await sessionRowOf(a.db, phone.cookie('sid'))).toBeUndefined();
  });

  it('an account deleted from the table: refused, on both instances', async () => {
    const { phone, phoneOnB } = await twoSessions('deleted_in_table');
    await a.db('users').where({ username: 'deleted_in_table' }).delete();
    await refusedEverywhere(phone, phoneOnB);
  });

  it('`npm run sessions -- revoke <username>`: refused on A and on B', async () => {
    const { laptop, phone, phoneOnB } = await twoSessions('revoked_by_cli');
    expect(cli('revoke', 'revoked_by_cli').status).toBe(0);
    await refusedEverywhere(phone, phoneOnB);
    expect((await laptop.get('/dashboard')).status).toBe(302);
  });

  it('`npm run sessions -- revoke-all --yes`: refused on A and on B', async () => {
    const { laptop, phone, phoneOnB } = await twoSessions('revoked_all');
    expect(cli('revoke-all', '--yes').status).toBe(0);
    await refusedEverywhere(phone, phoneOnB);
    await refusedEverywhere(laptop, onInstanceB(laptop));
  });
});

describe('the session cookie is sent again when its expiry moves by a step, not on every page', () => {
  /** A signed-in browser whose page history is full of /dashboard: a view changes nothing. */
  async function settled(username: string) {
    const browser = new Browser(a.app);
    await register(browser, username);
    for (let view = 0; view < a.config.historyLength; view++) await browser.get('/dashboard');
    return browser;
  }

  it('a page view that changes nothing sends no Set-Cookie at all, and writes no row', async () => {
    const browser = await settled('quiet_views');
    const before = await sessionRowOf(a.db, browser.cookie('sid'));
    const res = await browser.get('/dashboard');
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await sessionRowOf(a.db, browser.cookie('sid'))).toEqual(before);
  });

  it('a step after it was last sent, the cookie comes again with the full idle lifetime, as the row does', async () => {
    const browser = await settled('renewed_cookie');
    await editSessionRow(a.db, browser.cookie('sid'), (sess) => {
      sess.cookieRenewedAt = Date.now() - STEP_MS;
    });
    const res = await browser.get('/dashboard');
    const cookie = setCookie(res, 'sid');
    expect(cookie?.value).toBe(browser.cookie('sid'));
    expect(Number(cookie?.attributes['max-age'])).toBeGreaterThan(IDLE_MS / 1000 - 5);
    expect(Number(cookie?.attributes['max-age'])).toBeLessThanOrEqual(IDLE_MS / 1000);
    const row = await sessionRowOf(a.db, browser.cookie('sid'));
    expect(row?.sess.cookieRenewedAt).toBeGreaterThan(Date.now() - 5000);
    const rowExpiry = readSessionTimestamp(String(row?.expired));
    expect(rowExpiry - Date.now()).toBeGreaterThan(IDLE_MS - 5000);
    expect(rowExpiry - Date.now()).toBeLessThanOrEqual(IDLE_MS);
    // And only once: the next view is quiet again.
    expect((await browser.get('/dashboard')).headers['set-cookie']).toBeUndefined();
  });

  it('just short of a step, it is not sent: the cookie it replaces still runs at least idle − step', async () => {
    const browser = await settled('not_yet');
    await editSessionRow(a.db, browser.cookie('sid'), (sess) => {
      sess.cookieRenewedAt = Date.now() - STEP_MS + 10_000;
    });
    const res = await browser.get('/dashboard');
    // The browser's cookie was set to last IDLE_MS from cookieRenewedAt: at least
    // IDLE_MS - STEP_MS from now, the documented margin, and never beyond the row's expiry.
    expect(setCookie(res, 'sid')).toBeUndefined();
    const row = await sessionRowOf(a.db, browser.cookie('sid'));
    const cookieExpiry = Number(row?.sess.cookieRenewedAt) + IDLE_MS;
    const rowExpiry = readSessionTimestamp(String(row?.expired));
    expect(cookieExpiry - Date.now()).toBeGreaterThanOrEqual(IDLE_MS - STEP_MS);
    expect(Math.abs(cookieExpiry - rowExpiry)).toBeLessThanOrEqual(STEP_MS);
  });

  it('the row is moved on the same step: a session idle for a step gets its expiry pushed out', async () => {
    const browser = await settled('row_step');
    const sid = (await sessionRowOf(a.db, browser.cookie('sid')))?.sid;
    const lagging = Date.now() + IDLE_MS - STEP_MS;
    await a
      .db('sessions')
      .where({ sid })
      .update({ expired: sessionTimestamp(a.db, lagging) });
    await browser.get('/dashboard');
    const rowExpiry = readSessionTimestamp(
      String((await sessionRowOf(a.db, browser.cookie('sid')))?.expired),
    );
    expect(rowExpiry).toBeGreaterThan(lagging + STEP_MS - 5000);
  });

  it('a page view that changes the session (a new page in the history) sends it, as before', async () => {
    const browser = await settled('changed_history');
    const res = await browser.get('/about');
    expect(setCookie(res, 'sid')?.value).toBe(browser.cookie('sid'));
    const row = await sessionRowOf(a.db, browser.cookie('sid'));
    expect(row?.sess.history?.[0]).toBe('/about');
  });

  it('a cookie for a session that is not there gets no row, no cookie and no renewal', async () => {
    const browser = await settled('gone_session');
    await a.db('sessions').delete();
    const before = await a.db('sessions').count({ n: '*' });
    const res = await browser.get('/');
    expect(res.status).toBe(200);
    expect(setCookie(res, 'sid')).toBeUndefined();
    expect(await a.db('sessions').count({ n: '*' })).toEqual(before);
  });
});

describe('the CSRF token on a signed-in page', () => {
  it('is handed out once: later pages reuse it without a Set-Cookie, and it is still checked', async () => {
    const browser = new Browser(a.app);
    await register(browser, 'token_reuse');
    const first = await browser.get('/dashboard');
    const token = /name="_csrf" value="([^"]+)"/.exec(first.text)?.[1];
    const second = await browser.get('/account');
    expect(setCookies(second).map((cookie) => cookie.name)).not.toContain('csrf');
    expect(second.text).toContain(`name="_csrf" value="${token}"`);
    // Every form on the page carries it.
    const forms = second.text.match(/<form[^>]*method="post"[\s\S]*?<\/form>/g) ?? [];
    expect(forms.length).toBeGreaterThan(1);
    for (const form of forms) expect(form).toContain(`name="_csrf" value="${token}"`);
    // A POST without it, or with another, is refused; with it, accepted.
    expect((await browser.post('/logout', {})).status).toBe(403);
    expect((await browser.post('/logout', { _csrf: `${token}x` })).status).toBe(403);
    expect((await browser.post('/logout', { _csrf: String(token) })).status).toBe(303);
  });

  it('is not reused from another session’s cookie: a new one is made, and set', async () => {
    const mine = new Browser(a.app);
    await register(mine, 'token_owner');
    await mine.get('/dashboard');
    const other = new Browser(a.app);
    await register(other, 'token_borrower');
    other.setCookie('csrf', String(mine.cookie('csrf')));
    const res = await other.get('/dashboard');
    const issued = setCookie(res, 'csrf');
    expect(issued?.value).toBeDefined();
    expect(issued?.value).not.toBe(mine.cookie('csrf'));
  });
});

describe('what the signed-in page still sends', () => {
  it('the same security headers, no ETag, no-store, a request id, and its history', async () => {
    const browser = new Browser(a.app);
    await register(browser, 'header_check');
    await browser.get('/about');
    const res = await browser.get('/dashboard');
    expect(res.status).toBe(200);
    const names = Object.keys(res.headers).sort();
    expect(names).toEqual(
      [
        'cache-control',
        'connection',
        'content-length',
        'content-security-policy',
        'content-type',
        'cross-origin-opener-policy',
        'cross-origin-resource-policy',
        'date',
        'origin-agent-cluster',
        'permissions-policy',
        'referrer-policy',
        'set-cookie',
        'x-content-type-options',
        'x-dns-prefetch-control',
        'x-download-options',
        'x-frame-options',
        'x-permitted-cross-domain-policies',
        'x-request-id',
        'x-xss-protection',
      ].sort(),
    );
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    // The history changed (/dashboard after /about): saved, and its footer shows both.
    expect(res.text).toMatch(/<ol class="history"><li><a href="\/dashboard">[\s\S]*\/about/);
    const row = await sessionRowOf(a.db, browser.cookie('sid'));
    expect(row?.sess.history?.slice(0, 2)).toEqual(['/dashboard', '/about']);
  });
});
