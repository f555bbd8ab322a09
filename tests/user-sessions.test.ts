import { createHmac } from 'node:crypto';
import path from 'node:path';
import { createAccountTokens } from '../src/accounts/account-tokens';
import { deriveKeys } from '../src/security/keys';
import { readSessionTimestamp, sessionTimestamp } from '../src/session-store/knex-store';
import { Browser } from './helpers/browser';
import { runCli } from './helpers/cli';
import { sessionIdOf } from './helpers/cookies';
import {
  createTestApp,
  editSessionRow,
  PASSWORD,
  sessionRowOf,
  type TestApp,
} from './helpers/test-app';
import { testDatabaseKind } from './helpers/test-database';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** A browser on a device: its own user agent, and its own address as the proxy forwards it. */
const device = (t: TestApp, userAgent: string, address: string) =>
  new Browser(t.app, { headers: { 'User-Agent': userAgent, 'X-Forwarded-For': address } });

async function signedIn(t: TestApp, username: string) {
  const laptop = device(t, FIREFOX, '198.51.100.10');
  expect((await laptop.submit('/register', { username, password: PASSWORD })).status).toBe(303);
  const phone = device(t, IPHONE, '203.0.113.20');
  expect((await phone.submit('/login', { username, password: PASSWORD })).status).toBe(303);
  return { laptop, phone };
}

/** The handle the sessions page names a browser's session by (what its forms post). */
function handleOf(page: string, device: string): string {
  const card = page.split('<li class="card"').find((part) => part.includes(device));
  const handle = /name="session" value="([\w-]{22})"/.exec(card ?? '')?.[1];
  if (!handle) throw new Error(`no session form for ${device}`);
  return handle;
}

/** Makes a session's last password entry `minutes` old, as time passing would. */
const enteredPasswordAgo = (t: TestApp, browser: Browser, minutes: number) =>
  editSessionRow(t.db, browser.cookie('sid'), (sess) => {
    sess.loginAt = Date.now() - minutes * 60_000;
  });

const sessionsOf = async (t: TestApp, username: string) =>
  t
    .db('sessions')
    .join('users', 'users.id', 'sessions.user_id')
    .where('users.username', username)
    .select('sessions.*');

describe('the session row knows its owner', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: '1' });
  });
  afterAll(() => t.close());

  it('fills user id, sign-in time, last seen, user agent and address at sign-in', async () => {
    const before = Date.now();
    const { phone } = await signedIn(t, 'owner_columns');
    const [user] = await t.db('users').where({ username: 'owner_columns' });
    const row = await t
      .db('sessions')
      .where({ sid: sessionIdOf(String(phone.cookie('sid'))) })
      .first();
    expect(row).toMatchObject({ user_id: user.id, user_agent: IPHONE, ip: '203.0.113.20' });
    for (const column of ['created_at', 'last_seen_at']) {
      const value =
        row[column] instanceof Date
          ? row[column]
          : new Date(row[column] + (testDatabaseKind === 'mysql' ? 'Z' : ''));
      expect(new Date(value).getTime()).toBeGreaterThanOrEqual(before - 1000);
    }
  });

  it('moves "last seen" with the writes that move the expiry, and adds none of its own', async () => {
    const { laptop } = await signedIn(t, 'last_seen');
    const sid = sessionIdOf(String(laptop.cookie('sid')));
    const earlier = sessionTimestamp(t.db, Date.now() - 20 * 60_000);
    await t
      .db('sessions')
      .where({ sid })
      .update({ last_seen_at: earlier, expired: sessionTimestamp(t.db, Date.now() + 10 * 60_000) });
    // Far enough from the expiry to be written (a touch), so last_seen_at moves with it.
    expect((await laptop.get('/dashboard')).status).toBe(200);
    const moved = await t.db('sessions').where({ sid }).first();
    expect(String(moved.last_seen_at)).not.toBe(String(earlier));

    // A view right after: the expiry would barely move, so nothing is written at all.
    const writes: string[] = [];
    const listener = (query: { sql: string }) => {
      if (/^(update|insert)/i.test(query.sql)) writes.push(query.sql);
    };
    t.db.on('query', listener);
    try {
      await laptop.get('/dashboard');
      await laptop.get('/dashboard');
    } finally {
      t.db.off('query', listener);
    }
    // The dashboard records history (one session write for the first of the two views, which
    // changes it), but never a write for "last seen" alone.
    expect(writes.filter((sql) => /last_seen_at/.test(sql) && !/sess/.test(sql))).toEqual([]);
  });

  it('keeps no address with SESSION_RECORD_IP=false', async () => {
    const quiet = await createTestApp({ TRUST_PROXY: '1', SESSION_RECORD_IP: 'false' });
    try {
      const { laptop } = await signedIn(quiet, 'private_person');
      const row = await sessionRowOf(quiet.db, laptop.cookie('sid'));
      const raw = await quiet.db('sessions').where({ sid: row?.sid }).first();
      expect(raw.ip).toBeNull();
      expect(raw.user_agent).toBe(FIREFOX);
      const page = await laptop.get('/account/sessions');
      expect(page.text).toContain('not recorded on this site');
    } finally {
      await quiet.close();
    }
  });
});

describe('the "Your sessions" page', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: '1' });
  });
  afterAll(() => t.close());

  it('lists every live session of the user, newest activity first, and marks this device', async () => {
    const { laptop } = await signedIn(t, 'lister');
    // The laptop was last active five minutes ago, the phone just now.
    await t
      .db('sessions')
      .where({ sid: sessionIdOf(String(laptop.cookie('sid'))) })
      .update({ last_seen_at: sessionTimestamp(t.db, Date.now() - 5 * 60_000) });
    const page = await laptop.get('/account/sessions');
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    const iphone = page.text.indexOf('Safari 17 on iOS 17.5');
    const firefox = page.text.indexOf('Firefox 132 on Linux');
    expect(iphone).toBeGreaterThan(-1);
    expect(firefox).toBeGreaterThan(-1);
    expect(page.text).toContain('198.51.100.10');
    expect(page.text).toContain('203.0.113.20');
    expect(page.text).toMatch(/Firefox 132 on Linux <span class="badge">This device<\/span>/);
    expect(page.text).not.toMatch(/Safari 17 on iOS 17.5 <span class="badge">/);
    expect(page.text).toMatch(/<time datetime="[^"]+" title="[^"]+ GMT">just now<\/time>/);
    expect(page.text).toMatch(/<time datetime="[^"]+" title="[^"]+ GMT">5 minutes ago<\/time>/);
    expect(iphone).toBeLessThan(firefox);
  });

  it('never shows an expired session', async () => {
    const { laptop, phone } = await signedIn(t, 'expiring');
    await t
      .db('sessions')
      .where({ sid: sessionIdOf(String(phone.cookie('sid'))) })
      .update({ expired: sessionTimestamp(t.db, Date.now() - 1000) });
    const page = await laptop.get('/account/sessions');
    expect(page.text).not.toContain('Safari');
  });

  it('never prints a session id, not even the visitor’s own', async () => {
    const { laptop, phone } = await signedIn(t, 'no_ids');
    const page = await laptop.get('/account/sessions');
    for (const browser of [laptop, phone]) {
      const cookie = String(browser.cookie('sid'));
      expect(page.text).not.toContain(sessionIdOf(cookie));
      expect(page.text).not.toContain(sessionIdOf(cookie).slice(0, 12));
    }
  });

  it('signs out one other session: its row is gone at once, its next request is anonymous', async () => {
    const { laptop, phone } = await signedIn(t, 'revoker');
    const page = await laptop.get('/account/sessions');
    const res = await laptop.submit(
      '/account/sessions/revoke',
      { session: handleOf(page.text, 'Safari') },
      { from: '/account/sessions' },
    );
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account/sessions');
    expect(await sessionRowOf(t.db, phone.cookie('sid'))).toBeUndefined();
    expect((await laptop.get('/account/sessions')).text).toContain(
      'That session has been signed out.',
    );

    expect((await phone.get('/dashboard')).status).toBe(302);
    const api = await phone.get('/dashboard', { Accept: 'application/json' });
    expect(api.status).toBe(401);
    expect((await laptop.get('/dashboard')).status).toBe(200);
  });

  it('signs out all other sessions, and keeps this one', async () => {
    const { laptop, phone } = await signedIn(t, 'clean_sweep');
    const tablet = device(t, FIREFOX, '192.0.2.30');
    await tablet.submit('/login', { username: 'clean_sweep', password: PASSWORD });
    expect(await sessionsOf(t, 'clean_sweep')).toHaveLength(3);

    const res = await laptop.submit(
      '/account/sessions/revoke-others',
      {},
      { from: '/account/sessions' },
    );
    expect(res.status).toBe(303);
    const left = await sessionsOf(t, 'clean_sweep');
    expect(left.map((row) => row.sid)).toEqual([sessionIdOf(String(laptop.cookie('sid')))]);
    expect((await phone.get('/dashboard')).status).toBe(302);
    expect((await tablet.get('/dashboard')).status).toBe(302);
  });

  it('lets a user see and end only their own sessions', async () => {
    const alice = await signedIn(t, 'alice_own');
    const bob = await signedIn(t, 'bob_own');
    const alicePage = (await alice.laptop.get('/account/sessions')).text;
    const bobPage = (await bob.laptop.get('/account/sessions')).text;
    const bobsPhone = handleOf(bobPage, 'Safari');
    expect(alicePage).not.toContain(bobsPhone);

    const res = await alice.laptop.submit(
      '/account/sessions/revoke',
      { session: bobsPhone },
      { from: '/account/sessions' },
    );
    expect(res.status).toBe(404);
    expect(await sessionRowOf(t.db, bob.phone.cookie('sid'))).toBeDefined();
    expect((await bob.phone.get('/dashboard')).status).toBe(200);
  });

  it('is linked from the account page, which links back', async () => {
    const { laptop } = await signedIn(t, 'linked');
    expect((await laptop.get('/account')).text).toContain('href="/account/sessions"');
    expect((await laptop.get('/account/sessions')).text).toContain('href="/account"');
  });
});

describe('recent authentication (sudo mode)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: '1', RECENT_AUTH_MINUTES: '10' });
  });
  afterAll(() => t.close());

  it.each(['/account', '/account/sessions'])(
    'sends a session whose password is older than 10 minutes from %s to confirm it, then back',
    async (page) => {
      const { laptop } = await signedIn(t, `sudo_${page.length}`);
      await enteredPasswordAgo(t, laptop, 11);
      const res = await laptop.get(page);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/confirm-password?next=${encodeURIComponent(page)}`);

      const form = await laptop.get(String(res.headers.location));
      expect(form.text).toContain('Confirm your password');
      expect(form.text).toMatch(/autocomplete="current-password"/);
      const wrong = await laptop.submit(
        '/confirm-password',
        { password: 'not the password', next: page },
        { from: String(res.headers.location) },
      );
      expect(wrong.status).toBe(400);
      expect(wrong.text).toContain('Incorrect password.');
      const right = await laptop.submit(
        '/confirm-password',
        { password: PASSWORD, next: page },
        { from: String(res.headers.location) },
      );
      expect(right.status).toBe(303);
      expect(right.headers.location).toBe(page);
      expect((await laptop.get(page)).status).toBe(200);
    },
  );

  it('lets a session that entered its password 9 minutes ago straight through', async () => {
    const { laptop } = await signedIn(t, 'sudo_fresh');
    await enteredPasswordAgo(t, laptop, 9);
    expect((await laptop.get('/account/sessions')).status).toBe(200);
  });

  it.each([
    ['/account/sessions/revoke-others', {}, '/account/sessions'],
    [
      '/account/password',
      { current_password: PASSWORD, new_password: 'a new and sturdy passphrase' },
      '/account',
    ],
    ['/account/delete', { password: PASSWORD }, '/account'],
  ])(
    'refuses %s with a stale password entry, sending it to confirm and back to its page',
    async (action, fields, back) => {
      const { laptop, phone } = await signedIn(t, `stale_${action.length}`);
      const token = await laptop.csrfToken(back);
      await enteredPasswordAgo(t, laptop, 11);
      const res = await laptop.post(action, { ...fields, _csrf: token });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/confirm-password?next=${encodeURIComponent(back)}`);
      // Nothing happened: the other session and the account are still there.
      expect((await phone.get('/dashboard')).status).toBe(200);
    },
  );

  it('answers a JSON client with 403 instead of a page', async () => {
    const { laptop } = await signedIn(t, 'sudo_json');
    await enteredPasswordAgo(t, laptop, 11);
    const res = await laptop.get('/account/sessions', { Accept: 'application/json' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ confirm: '/confirm-password' });
  });

  it('counts the confirmation against the session’s own limit, and signs the session out at it', async () => {
    const limited = await createTestApp({ TRUST_PROXY: '1', PASSWORD_CONFIRM_FAILURES: '2' });
    try {
      const { laptop, phone } = await signedIn(limited, 'sudo_limited');
      await enteredPasswordAgo(limited, laptop, 11);
      expect((await laptop.submit('/confirm-password', { password: 'guess' })).status).toBe(400);
      expect((await laptop.submit('/confirm-password', { password: 'guess' })).status).toBe(401);
      expect((await laptop.get('/dashboard')).status).toBe(302);
      expect((await phone.get('/dashboard')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('SECURITY+ 30: a confirmed password gives the session a new id, still signed in, same login time', async () => {
    const { laptop } = await signedIn(t, 'sudo_new_id');
    await enteredPasswordAgo(t, laptop, 11);
    const token = await laptop.csrfToken('/confirm-password');
    const before = await sessionRowOf(t.db, laptop.cookie('sid'));
    const oldCookie = laptop.cookie('sid');
    const res = await laptop.post('/confirm-password', {
      password: PASSWORD,
      next: '/account',
      _csrf: token,
    });
    expect(res.status).toBe(303);
    const after = await sessionRowOf(t.db, laptop.cookie('sid'));
    expect(laptop.cookie('sid')).not.toBe(oldCookie);
    expect(after?.sid).not.toBe(before?.sid);
    expect(after?.sess).toMatchObject({
      userId: before?.sess.userId,
      loginAt: before?.sess.loginAt,
      authHash: before?.sess.authHash,
      history: before?.sess.history,
      confirmedAt: expect.any(Number),
    });
    // The old id is worthless: its row is gone, and its cookie is an anonymous visitor's.
    expect(await t.db('sessions').where({ sid: before?.sid })).toEqual([]);
    const stale = new Browser(t.app);
    stale.setCookie('sid', String(oldCookie));
    expect((await stale.get('/dashboard')).status).toBe(302);
    expect((await laptop.get('/account')).status).toBe(200);
    // The row still says when this browser signed in, not when it confirmed.
    const row = await t.db('sessions').where({ sid: after?.sid }).first();
    expect(readSessionTimestamp(row.created_at)).toBe(before?.sess.loginAt);
  });

  it('sends a confirmation’s `next` only to a path on this site', async () => {
    const { laptop } = await signedIn(t, 'sudo_next');
    const res = await laptop.submit('/confirm-password', {
      password: PASSWORD,
      next: '//evil.example/account',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account');
  });
});

describe('your session, as the server sees it (linked from the dashboard)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: '1', DOCS_URL: 'https://code.example/repo/blob/main' });
  });
  afterAll(() => t.close());

  it('shows the cookie, the row and its JSON, never the whole id or the credential stamp', async () => {
    const { laptop } = await signedIn(t, 'panel_user');
    const sid = sessionIdOf(String(laptop.cookie('sid')));
    const row = await sessionRowOf(t.db, laptop.cookie('sid'));
    expect((await laptop.get('/dashboard')).text).toContain('href="/session"');
    const page = (await laptop.get('/session')).text;
    expect(page).toContain('Your session, as the server sees it');
    expect(page).toContain(`<code>sid</code>`);
    expect(page).toContain(`s:${sid.slice(0, 6)}…`);
    expect(page).not.toContain(sid);
    expect(page).not.toContain(sid.slice(0, 7));
    expect(page).toContain('<dt><code>user_agent</code></dt><dd>Mozilla/5.0 (X11; Linux x86_64');
    expect(page).toContain('<dt><code>ip</code></dt><dd>198.51.100.10</dd>');
    expect(page).toContain('&quot;userId&quot;');
    expect(page).toContain('(hidden: derived from your password hash)');
    expect(page).not.toContain(String(row?.sess.authHash));
    expect(page).toContain('After 30 minutes without a request');
    expect(page).toContain('12 hours after you logged in');
    expect(page).toContain(
      'href="https://code.example/repo/blob/main/docs/sessions.md#what-the-session-holds"',
    );
  });

  it('names the docs/sessions.md sections when DOCS_URL is not set', async () => {
    const plain = await createTestApp({}, { databaseUrl: t.databaseUrl });
    try {
      const browser = new Browser(plain.app);
      await browser.submit('/login', { username: 'panel_user', password: PASSWORD });
      const page = (await browser.get('/session')).text;
      expect(page).toContain('Explained in docs/sessions.md, “What the session holds”.');
    } finally {
      await plain.close();
    }
  });
});

describe('with SESSION_STORE=memory', () => {
  it('the sessions page says why it cannot list sessions, and nothing crashes', async () => {
    const memory = await createTestApp({ SESSION_STORE: 'memory' });
    try {
      const browser = new Browser(memory.app);
      await browser.submit('/register', { username: 'in_memory', password: PASSWORD });
      const page = await browser.get('/account/sessions');
      expect(page.status).toBe(200);
      expect(page.text).toContain('cannot be listed here');
      expect((await browser.get('/session')).text).toContain('there is no row');
      const changed = await browser.submit(
        '/account/password',
        { current_password: PASSWORD, new_password: 'a memory store passphrase' },
        { from: '/account' },
      );
      expect(changed.status).toBe(303);
    } finally {
      await memory.close();
    }
  });
});

describe('the migration that gives sessions their owner', () => {
  const MIGRATION = '20261125000200_sessions_know_their_owner';

  it('keeps every existing session valid, fills user id and sign-in time, and rolls back', async () => {
    const t = await createTestApp();
    try {
      await t.db('users').insert({ username: 'from_before', password_hash: 'an old hash' });
      const { id: userId } = await t.db('users').where({ username: 'from_before' }).first();
      await t.db.migrate.down({ name: `${MIGRATION}${path.extname(__filename)}` });
      expect(await t.db.schema.hasColumn('sessions', 'user_id')).toBe(false);

      // A session the old store wrote: whose it is, only in its JSON.
      const keys = deriveKeys(t.config.session.secrets);
      const authHash = createHmac('sha256', keys.credentialStamp[0] ?? '')
        .update('session-credentials:an old hash')
        .digest('base64url');
      const loginAt = Date.now() - 3_600_000;
      const sid = 'a-session-from-before-the-migration';
      const expired = sessionTimestamp(t.db, Date.now() + 1_800_000);
      await t.db('sessions').insert([
        {
          sid,
          sess: JSON.stringify({
            cookie: { originalMaxAge: 1_800_000 },
            userId,
            loginAt,
            authHash,
          }),
          expired,
        },
        { sid: 'anonymous-from-before', sess: JSON.stringify({ cookie: {} }), expired },
      ]);
      await t.db.migrate.latest();

      const row = await t.db('sessions').where({ sid }).first();
      expect(row.user_id).toBe(userId);
      const createdAt =
        row.created_at instanceof Date
          ? row.created_at.getTime()
          : Date.parse(
              /Z$/.test(row.created_at) ? row.created_at : `${row.created_at.replace(' ', 'T')}Z`,
            );
      expect(Math.abs(createdAt - loginAt)).toBeLessThan(2000);
      expect(String(row.last_seen_at)).toBe(String(row.created_at));
      const anonymous = await t.db('sessions').where({ sid: 'anonymous-from-before' }).first();
      expect(anonymous.user_id).toBeNull();

      // The browser that holds that session's cookie is still signed in.
      const signature = createHmac('sha256', keys.sessionCookie[0] ?? '')
        .update(sid)
        .digest('base64')
        .replace(/=+$/, '');
      const browser = new Browser(t.app);
      browser.setCookie('sid', encodeURIComponent(`s:${sid}.${signature}`));
      const dashboard = await browser.get('/dashboard');
      expect(dashboard.status).toBe(200);
      expect(dashboard.text).toContain('from_before');
      // ...and the new column does its job: the rows go when the user goes.
      await t.db('users').where({ id: userId }).delete();
      expect(await t.db('sessions').where({ sid })).toEqual([]);

      // Rolled back, the table is connect-session-knex's again, sessions kept.
      await t.db.migrate.down({ name: `${MIGRATION}${path.extname(__filename)}` });
      expect(await t.db.schema.hasColumn('sessions', 'user_id')).toBe(false);
      expect(await t.db('sessions').where({ sid: 'anonymous-from-before' })).toHaveLength(1);
      await t.db.migrate.latest();
    } finally {
      await t.close();
    }
  });
});

describe('npm run sessions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: '1' });
    await signedIn(t, 'cli_user');
  });
  afterAll(() => t.close());

  const cli = (...args: string[]) =>
    runCli('sessions.ts', args, {
      NODE_ENV: 'test',
      DATABASE_URL: t.databaseUrl,
      LOG_LEVEL: 'info',
    });

  /** A pending reset link for `username`, as "Forgot your password?" would leave one. */
  const resetLinkFor = async (username: string) => {
    const { id } = await t.db('users').where({ username }).first();
    await createAccountTokens(t.db).issue(id, 'reset-password', { minutes: 30 });
    return id as number;
  };

  it('lists a user’s sessions with device, address and times', () => {
    const result = cli('list', 'CLI_user');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Firefox 132 on Linux  198.51.100.10  signed in ');
    expect(result.stdout).toContain('Safari 17 on iOS 17.5  203.0.113.20');
  });

  it('gives counts of live and expired rows', () => {
    const result = cli('stats');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/live: \d+\nexpired, not yet cleaned up: \d+/);
  });

  it('says clearly when the user does not exist, and exits non-zero', () => {
    const result = cli('list', 'nobody_by_that_name');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('no user named "nobody_by_that_name"');
    const usage = cli('frobnicate');
    expect(usage.status).toBe(1);
    expect(usage.stderr).toContain('usage: npm run sessions');
  });

  it('revokes every session of a user at once', async () => {
    const result = cli('revoke', 'cli_user');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('2 sessions of cli_user ended');
    expect(await sessionsOf(t, 'cli_user')).toEqual([]);
  });

  it('SECURITY+ 26: revoke also ends the user’s pending reset links, and leaves a security event', async () => {
    await signedIn(t, 'cli_reset');
    const id = await resetLinkFor('cli_reset');
    const result = cli('revoke', 'cli_reset');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('2 sessions of cli_reset ended, and its reset links');
    expect(await t.db('account_tokens').where({ user_id: id })).toEqual([]);
    const event = JSON.parse(
      result.stderr.split('\n').find((line) => line.includes('"event"')) ?? '{}',
    );
    expect(event).toMatchObject({ event: 'session_revoked', outcome: 'success', userId: id });
    expect(event.reason).toMatch(/every session, by an operator \(npm run sessions\)/);
  });

  it('revoke-all asks for --yes first, and changes nothing without it', async () => {
    await signedIn(t, 'cli_all_one');
    const before = await t.db('sessions').count({ n: '*' });
    const result = cli('revoke-all');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('npm run sessions -- revoke-all --yes');
    expect(await t.db('sessions').count({ n: '*' })).toEqual(before);
  });

  it('revoke-all --yes ends every session and every reset link of every user', async () => {
    await signedIn(t, 'cli_all_two');
    await resetLinkFor('cli_all_two');
    const result = cli('revoke-all', '--yes');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\d+ sessions ended, of every user, and every reset link/);
    expect(await t.db('sessions').select('sid')).toEqual([]);
    expect(await t.db('account_tokens').where({ purpose: 'reset-password' })).toEqual([]);
    expect(result.stderr).toContain('"event":"session_revoked"');
  });
});
