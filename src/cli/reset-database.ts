// `npm run db:reset`: a clean development database. Every migration is rolled back (every table
// and its rows go), then applied again, and the demo account is seeded, on whatever database
// DATABASE_URL names. Development only: anywhere else it refuses, and changes nothing.
import { readConfig } from '../config';
import { createDatabase } from '../db';
import { runCommand } from './run-command';

async function main(): Promise<number> {
  const config = readConfig();
  if (config.env !== 'development') {
    console.error(`npm run db:reset deletes every row: refused with NODE_ENV=${config.env}`);
    return 1;
  }
  const db = createDatabase(config);
  try {
    const [, rolledBack] = await db.migrate.rollback(undefined, true);
    const [, applied] = await db.migrate.latest();
    await db.seed.run();
    console.log(
      `${rolledBack.length} migrations rolled back and ${applied.length} applied: ` +
        `${config.databaseUrl} is empty but for the demo account`,
    );
    return 0;
  } finally {
    await db.destroy();
  }
}

runCommand(main);
