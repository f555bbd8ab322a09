import request from 'supertest';
import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import { createTestApp, register, sessionRows, type TestApp } from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ HISTORY_LENGTH: '3' });
});
afterAll(() => t.close());

async function historyOf(username: string): Promise<string[] | undefined> {
  const [user] = await t.db('users').where({ username });
  const row = (await sessionRows(t.db)).find((r) => r.sess.userId === user.id);
  return row?.sess.history;
}

describe('page history', () => {
  it('lists the pages a signed-in session viewed, newest first, in the row and the footer', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'reader');
    await browser.get('/');
    await browser.get('/about');
    const page = await browser.get('/contact');

    expect(await historyOf('reader')).toEqual(['/contact', '/about', '/']);
    expect(page.text).toContain(
      '<ol class="history"><li><a href="/contact">/contact</a></li><li><a href="/about">/about</a></li><li><a href="/">/</a></li></ol>',
    );
  });

  it('SECURITY 29: keeps at most HISTORY_LENGTH entries', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'capped');
    for (const path of ['/', '/about', '/contact', '/dashboard', '/about']) await browser.get(path);
    expect(await historyOf('capped')).toEqual(['/about', '/dashboard', '/contact']);
  });

  it('SECURITY 29: records the path without its query string', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'searcher');
    await browser.get('/about?q=secret-search&token=abc');
    expect(await historyOf('searcher')).toEqual(['/about']);
  });

  it('SECURITY 29: skips assets, errors and form posts', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'skipper');
    expect((await browser.get('/assets/styles.css')).status).toBe(200);
    expect((await browser.get('/no-such-page')).status).toBe(404);
    const post = await browser.submit('/register', { username: 'x' }, { from: '/no-such-page' });
    expect(post.status).toBe(400);
    expect((await historyOf('skipper')) ?? []).toEqual([]);

    expect((await browser.get('/about')).status).toBe(200);
    expect(await historyOf('skipper')).toEqual(['/about']);
  });

  it('SECURITY 10: records nothing for anonymous visitors: no row, no cookie', async () => {
    const before = (await sessionRows(t.db)).length;
    for (const path of ['/', '/about', '/contact', '/login', '/register']) {
      const res = await request(t.app).get(path);
      expect(res.status).toBe(200);
      expect(setCookie(res, 'sid')).toBeUndefined();
    }
    expect((await sessionRows(t.db)).length).toBe(before);
  });
});
