// The knex CLI's view of the database (`npm run migrate`, `npm run seed`): the same URL and
// settings the app uses, so a migration never runs against a different file than the server.
import { readConfig } from './src/config';
import { createDatabaseDirectory, knexConfig } from './src/db';

const config = readConfig();
createDatabaseDirectory(config.databaseUrl);

export default knexConfig(config.databaseUrl);
