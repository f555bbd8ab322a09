import request from 'supertest';
import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import { createTestApp, register, type TestApp } from './helpers/test-app';
import { countRows } from './helpers/test-database';

describe('sessions in the database', () => {
  let first: TestApp;
  let second: TestApp | undefined;
  beforeAll(async () => {
    first = await createTestApp();
  });
  afterAll(async () => {
    await second?.close();
    await first.close();
  });

  it('survive a restart: a new app instance on the same file knows the session', async () => {
    const cookie = setCookie(await register(new Browser(first.app), 'persistent'), 'sid');
    if (!cookie) throw new Error('register set no session cookie');
    await request(first.app).get('/about').set('Cookie', `sid=${cookie.value}`).expect(200);

    // What the seed tutorials ask: "what if the server shuts down?" A second process, same file.
    second = await createTestApp({}, { databaseUrl: first.databaseUrl });
    const res = await request(second.app).get('/dashboard').set('Cookie', `sid=${cookie.value}`);

    expect(res.status).toBe(200);
    expect(res.text).toContain('Signed in as <strong>persistent</strong>');
    expect(res.text).toContain('<li><a href="/about">/about</a></li>');
  });

  it('are lost on restart with SESSION_STORE=memory, the tutorials’ starting point', async () => {
    const memory = await createTestApp(
      { SESSION_STORE: 'memory' },
      { databaseUrl: first.databaseUrl },
    );
    const restarted = await createTestApp(
      { SESSION_STORE: 'memory' },
      { databaseUrl: first.databaseUrl },
    );
    try {
      const cookie = setCookie(await register(new Browser(memory.app), 'forgotten'), 'sid');
      if (!cookie) throw new Error('register set no session cookie');
      const sameProcess = await request(memory.app)
        .get('/dashboard')
        .set('Cookie', `sid=${cookie.value}`);
      expect(sameProcess.status).toBe(200);
      const res = await request(restarted.app)
        .get('/dashboard')
        .set('Cookie', `sid=${cookie.value}`);
      expect(res.status).toBe(302);
      expect(await countRows(first.db, 'sessions')).toBe(1);
    } finally {
      await restarted.close();
      await memory.close();
    }
  });
});
