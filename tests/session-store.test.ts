import { Writable } from 'node:stream';
import pino from 'pino';
import session from 'express-session';
import { ConnectSessionKnexStore } from 'connect-session-knex';
import { loadConfig } from '../src/config';
import { createDatabase, type Database } from '../src/db';
import { createSessionStore, stopSessionStore } from '../src/session-store/store';
import { createTestDatabaseUrl } from './helpers/test-app';

let db: Database;
beforeAll(async () => {
  db = createDatabase({ databaseUrl: await createTestDatabaseUrl() });
});
afterAll(() => db.destroy());

/** A real pino logger whose lines land in an array. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('the session store', () => {
  it('is connect-session-knex on the app’s own knex instance by default', () => {
    const { logger } = capturingLogger();
    const store = createSessionStore(loadConfig({}), db, logger);
    try {
      expect(store).toBeInstanceOf(ConnectSessionKnexStore);
      expect((store as ConnectSessionKnexStore).options.knex).toBe(db);
      expect((store as ConnectSessionKnexStore).options.createTable).toBe(false);
    } finally {
      stopSessionStore(store);
    }
  });

  it.each(['production', 'test'])(
    'warns loudly when MemoryStore is chosen with NODE_ENV=%s',
    (env) => {
      const { logger, lines } = capturingLogger();
      const config = loadConfig({
        NODE_ENV: env,
        SESSION_STORE: 'memory',
        SESSION_SECRETS: 'a-production-secret-that-is-long-enough-000000',
        PUBLIC_URL: 'https://site.example',
      });
      expect(createSessionStore(config, db, logger)).toBeInstanceOf(session.MemoryStore);
      expect(lines).toEqual([
        expect.objectContaining({ level: 40, msg: expect.stringMatching(/^SESSION_STORE=memory/) }),
      ]);
    },
  );

  it('uses MemoryStore quietly in development, where losing sessions on restart is expected', () => {
    const { logger, lines } = capturingLogger();
    const config = loadConfig({ SESSION_STORE: 'memory' });
    expect(createSessionStore(config, db, logger)).toBeInstanceOf(session.MemoryStore);
    expect(lines).toEqual([]);
  });
});
