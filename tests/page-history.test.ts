import request from 'supertest';
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
    const agent = request.agent(t.app);
    await register(agent, 'reader');
    await agent.get('/');
    await agent.get('/about');
    const page = await agent.get('/contact');

    expect(await historyOf('reader')).toEqual(['/contact', '/about', '/']);
    expect(page.text).toContain(
      '<ol class="history"><li><a href="/contact">/contact</a></li><li><a href="/about">/about</a></li><li><a href="/">/</a></li></ol>',
    );
  });

  it('keeps at most HISTORY_LENGTH entries', async () => {
    const agent = request.agent(t.app);
    await register(agent, 'capped');
    for (const path of ['/', '/about', '/contact', '/dashboard', '/about']) await agent.get(path);
    expect(await historyOf('capped')).toEqual(['/about', '/dashboard', '/contact']);
  });

  it('records the path without its query string', async () => {
    const agent = request.agent(t.app);
    await register(agent, 'searcher');
    await agent.get('/about?q=secret-search&token=abc');
    expect(await historyOf('searcher')).toEqual(['/about']);
  });

  it('skips assets, errors and form posts', async () => {
    const agent = request.agent(t.app);
    await register(agent, 'skipper');
    await agent.get('/styles.css').expect(200);
    await agent.get('/no-such-page').expect(404);
    await agent.post('/register').type('form').send({ username: 'x' }).expect(400);
    expect((await historyOf('skipper')) ?? []).toEqual([]);

    await agent.get('/about').expect(200);
    expect(await historyOf('skipper')).toEqual(['/about']);
  });

  it('records nothing for anonymous visitors: no row, no cookie', async () => {
    const before = (await sessionRows(t.db)).length;
    for (const path of ['/', '/about', '/contact', '/login', '/register']) {
      const res = await request(t.app).get(path);
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect((await sessionRows(t.db)).length).toBe(before);
  });
});
