// The knex CLI's view of the database (`npm run migrate`, `npm run seed`): the same URL and
// settings the app uses, so a migration never runs against a different file than the server.
// Only DATABASE_URL is read: a release step migrates before the server's secrets need to exist.
import { readDatabaseUrl } from './src/config';
import { createDatabaseDirectory, knexConfig } from './src/db';

const databaseUrl = readDatabaseUrl();
createDatabaseDirectory(databaseUrl);

export default knexConfig(databaseUrl);
