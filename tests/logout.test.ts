import request from 'supertest';
import { sessionIdOf, setCookie } from './helpers/cookies';
import { createTestApp, register, sessionRows, type TestApp } from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function signedIn(username: string) {
  const agent = request.agent(t.app);
  const cookie = setCookie(await register(agent, username), 'sid');
  if (!cookie) throw new Error('register set no session cookie');
  return { agent, cookie };
}

describe('logout', () => {
  it('deletes the session row and redirects home with 303', async () => {
    const { agent, cookie } = await signedIn('leaver');
    const res = await agent.post('/logout');

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    const sids = (await sessionRows(t.db)).map((row) => row.sid);
    expect(sids).not.toContain(sessionIdOf(cookie.value));
  });

  it('expires the cookie with the attributes it was set with', async () => {
    const { agent } = await signedIn('clearer');
    const cleared = setCookie(await agent.post('/logout'), 'sid');

    expect(cleared?.value).toBe('');
    expect(new Date(String(cleared?.attributes.expires)).getTime()).toBeLessThan(Date.now());
    expect(cleared?.attributes).toMatchObject({
      path: '/',
      httponly: true,
      samesite: 'Lax',
      'max-age': '0',
    });
  });

  it('leaves the old cookie anonymous', async () => {
    const { agent, cookie } = await signedIn('replayer');
    await agent.post('/logout');
    const replay = await request(t.app).get('/dashboard').set('Cookie', `sid=${cookie.value}`);
    expect(replay.status).toBe(302);
  });

  it('shows a one-time message on the next page', async () => {
    const { agent } = await signedIn('messenger');
    await agent.post('/logout');
    expect((await agent.get('/')).text).toContain('You have been signed out.');
    expect((await agent.get('/')).text).not.toContain('You have been signed out.');
  });

  it('does not happen on GET /logout', async () => {
    const { agent, cookie } = await signedIn('linkclicker');
    const res = await agent.get('/logout');

    expect(res.status).toBe(404);
    expect((await agent.get('/dashboard')).status).toBe(200);
    const sids = (await sessionRows(t.db)).map((row) => row.sid);
    expect(sids).toContain(sessionIdOf(cookie.value));
  });
});
