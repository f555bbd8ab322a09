import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, DEVELOPMENT_SECRET, EXAMPLE_SECRET, loadConfig } from '../src/config';

const SECRET = 'a-production-secret-that-is-long-enough-000000';
const production = (env: Record<string, string> = {}) =>
  loadConfig({
    NODE_ENV: 'production',
    SESSION_SECRETS: SECRET,
    PUBLIC_URL: 'https://site.example',
    ...env,
  });

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration', () => {
  it('has working development defaults and says the development secret is in use', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      databaseUrl: 'sqlite:data/app.sqlite3',
      trustProxy: 0,
      bcryptCost: 10,
      historyLength: 10,
      passwordMinLength: 15,
      session: {
        secrets: [DEVELOPMENT_SECRET],
        publishedSecret: true,
        cookieName: 'sid',
        idleMinutes: 30,
        store: 'database',
      },
    });
  });

  it('runs development with the .env.example secret, flagged as published', () => {
    const config = loadConfig({ SESSION_SECRETS: EXAMPLE_SECRET });
    expect(config.session.secrets).toEqual([EXAMPLE_SECRET]);
    expect(config.session.publishedSecret).toBe(true);
  });

  it('is frozen, all the way down', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.session)).toBe(true);
    expect(Object.isFrozen(config.session.secrets)).toBe(true);
  });

  it('uses __Host-sid and every listed secret in production', () => {
    const config = production({ SESSION_SECRETS: `${SECRET}, ${SECRET}-old` });
    expect(config.session.cookieName).toBe('__Host-sid');
    expect(config.session.secrets).toEqual([SECRET, `${SECRET}-old`]);
    expect(config.session.publishedSecret).toBe(false);
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      'a missing secret in production',
      () => production({ SESSION_SECRETS: '' }),
      /^SESSION_SECRETS is required in production/,
    ],
    [
      'a secret shorter than 32 bytes',
      () => production({ SESSION_SECRETS: 'short-secret' }),
      /^SESSION_SECRETS: each secret must be at least 32 bytes/,
    ],
    [
      'a short old secret in the rotation list',
      () => production({ SESSION_SECRETS: `${SECRET},old` }),
      /^SESSION_SECRETS: each secret must be at least 32 bytes/,
    ],
    [
      'the .env.example secret',
      () => production({ SESSION_SECRETS: EXAMPLE_SECRET }),
      /^SESSION_SECRETS contains a published example value/,
    ],
    [
      'the development secret in production',
      () => production({ SESSION_SECRETS: DEVELOPMENT_SECRET }),
      /^SESSION_SECRETS contains a published example value/,
    ],
    [
      'a tutorial secret in production',
      () => production({ SESSION_SECRETS: 'keyboard cat' }),
      /^SESSION_SECRETS contains a published example value/,
    ],
    [
      'a short secret in development too',
      () => loadConfig({ SESSION_SECRETS: 'keyboard cat' }),
      /^SESSION_SECRETS: each secret must be at least 32 bytes/,
    ],
    ['a non-numeric PORT', () => loadConfig({ PORT: 'eighty' }), /^PORT must be a whole number/],
    [
      'a PORT out of range',
      () => loadConfig({ PORT: '70000' }),
      /^PORT must be between 0 and 65535/,
    ],
    ['an unknown NODE_ENV', () => loadConfig({ NODE_ENV: 'staging' }), /^NODE_ENV: /],
    ['an unknown SESSION_STORE', () => loadConfig({ SESSION_STORE: 'redis' }), /^SESSION_STORE: /],
    [
      'a DATABASE_URL that is not sqlite',
      () => loadConfig({ DATABASE_URL: 'data/app.db' }),
      /^DATABASE_URL must look like sqlite:/,
    ],
    [
      'TRUST_PROXY=true',
      () => loadConfig({ TRUST_PROXY: 'true' }),
      /^TRUST_PROXY must be a whole number/,
    ],
    [
      'the cookie name connect.sid',
      () => loadConfig({ SESSION_COOKIE_NAME: 'connect.sid' }),
      /^SESSION_COOKIE_NAME must not be connect.sid/,
    ],
    [
      'a production cookie name without __Host-',
      () => production({ SESSION_COOKIE_NAME: 'sid' }),
      /^SESSION_COOKIE_NAME must start with __Host- in production/,
    ],
    [
      'a __Host- cookie name over development http',
      () => loadConfig({ SESSION_COOKIE_NAME: '__Host-sid' }),
      /^SESSION_COOKIE_NAME: __Host- cookies need https/,
    ],
    [
      'BCRYPT_COST below 10 in production',
      () => production({ BCRYPT_COST: '8' }),
      /^BCRYPT_COST must be at least 10 in production/,
    ],
    [
      'SESSION_IDLE_MINUTES of 0',
      () => loadConfig({ SESSION_IDLE_MINUTES: '0' }),
      /^SESSION_IDLE_MINUTES must be between 1 and/,
    ],
  ])('SECURITY 9: refuses %s, naming the variable', (_case, load, message) => {
    expect(problemsOf(load)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  it('lists every problem at once', () => {
    expect(problemsOf(() => loadConfig({ PORT: 'x', HISTORY_LENGTH: '-1' }))).toHaveLength(2);
  });

  it('SECURITY 9: stops the server before it listens, with the reason on stderr', () => {
    const root = path.resolve(__dirname, '..');
    const result = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'src/server.ts')],
      {
        cwd: root,
        env: { PATH: process.env.PATH, NODE_ENV: 'production', SESSION_SECRETS: EXAMPLE_SECRET },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('SESSION_SECRETS contains a published example value');
  });
});

describe('the built server’s environment', () => {
  it('SECURITY+ 13: runs as production unless told otherwise, so it refuses to start without a secret', () => {
    expect(problemsOf(() => loadConfig({}, { defaultEnv: 'production' }))).toContain(
      'SESSION_SECRETS is required in production (openssl rand -base64 48)',
    );
    const env = { SESSION_SECRETS: SECRET, PUBLIC_URL: 'https://site.example' };
    expect(loadConfig(env, { defaultEnv: 'production' }).env).toBe('production');
    expect(loadConfig({ NODE_ENV: 'development' }, { defaultEnv: 'production' }).env).toBe(
      'development',
    );
  });

  it.each([
    ['one repeated character', 'x'.repeat(48)],
    ['the tutorials’ secret, repeated', 'keyboard cat'.repeat(4)],
    ['the tutorials’ secret, with spaces', 'keyboard cat keyboard cat keyboard cat'],
    ['a short pattern, repeated', 'abc123'.repeat(8)],
    ['few distinct characters', '0101010110101011010101101010110101'],
  ])('SECURITY+ 13: production refuses a long but obviously weak secret: %s', (_name, secret) => {
    const problems = problemsOf(() =>
      loadConfig({ NODE_ENV: 'production', SESSION_SECRETS: secret }),
    );
    expect(problems).toContainEqual(expect.stringMatching(/SESSION_SECRETS.*(weak|published)/));
  });

  it('SECURITY+ 13: production accepts a random secret', () => {
    const secret = 'kR3v9Zq1pWm7xYt2Lb8Nc4Hd6Fg0Js5A+Qe/Uo=';
    expect(production({ SESSION_SECRETS: secret }).session.secrets).toEqual([secret]);
  });
});
