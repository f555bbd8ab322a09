import { parseForm, registerForm } from '../src/accounts/forms';
import { strengthProblem } from '../src/passwords/password-policy';
import { verifyPassword } from '../src/passwords/passwords';
import { createDatabase, type Database } from '../src/db';
import { DEMO_PASSWORD, DEMO_USERNAME, seed } from '../seeds/demo-user';
import { createTestDatabaseUrl } from './helpers/test-app';

let db: Database;
const savedEnv = { ...process.env };
beforeAll(async () => {
  db = createDatabase({ databaseUrl: await createTestDatabaseUrl() });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(() => {
  process.env = { ...savedEnv };
});
afterAll(() => db.destroy());

describe('the demo account seed', () => {
  it('creates nothing outside development', async () => {
    process.env.NODE_ENV = 'production';
    process.env.SESSION_SECRETS = 'a-production-secret-that-is-long-enough-000000';
    process.env.PUBLIC_URL = 'https://site.example';
    await seed(db);
    expect(await db('users').where({ username: DEMO_USERNAME })).toHaveLength(0);
  });

  it('creates the demo account once in development, with the README’s password', async () => {
    process.env.NODE_ENV = 'development';
    process.env.BCRYPT_COST = '4';
    await seed(db);
    await seed(db);
    const rows = await db('users').where({ username: DEMO_USERNAME });
    expect(rows).toHaveLength(1);
    expect(await verifyPassword(DEMO_PASSWORD, rows[0].password_hash)).toBe(true);
  });

  it('uses a password the registration form itself would accept, zxcvbn’s estimate included', async () => {
    const siteName = 'Session Starter';
    const result = parseForm(registerForm({ passwordMinLength: 15, siteName }), {
      username: DEMO_USERNAME,
      password: DEMO_PASSWORD,
    });
    expect(result).toEqual({ ok: true, data: expect.anything() });
    const context = { minScore: 3, siteName, username: DEMO_USERNAME };
    expect(await strengthProblem(DEMO_PASSWORD, context)).toBeUndefined();
    expect(DEMO_PASSWORD.toLowerCase()).not.toContain(DEMO_USERNAME);
  });
});
