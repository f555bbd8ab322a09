import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';

interface MigrationModule {
  up(knex: Knex): Promise<unknown>;
  down?(knex: Knex): Promise<unknown>;
}

/**
 * The migrations in `directory` (named and ordered as knex's own file source orders them), each
 * run on SQLite in a transaction of its own with foreign keys off, and checked before it commits.
 *
 * Why: knex changes or drops a column on SQLite by rebuilding the table: a copy is made, the rows
 * copied, the original dropped and the copy renamed. With foreign keys on, dropping `users` fires
 * every `ON DELETE CASCADE` that points at it: every session, every mailed link, and every table
 * an app built on this one hangs off `users`, all gone. knex turns `PRAGMA foreign_keys` off
 * around the rebuild, but SQLite ignores that pragma inside a transaction, and knex runs each
 * migration inside one, so the rows went (`DEBUG=knex:query` shows the pragma sent, and nothing
 * change). Here the pragma is set before the transaction begins (knex's `enforceForeignCheck:
 * false`, which puts it back afterwards), and `PRAGMA foreign_key_check` runs before the
 * transaction commits: a migration that leaves a reference pointing at nothing fails, names the
 * tables, and is rolled back whole, so no half-rebuilt table stays behind. Migrations are
 * written as knex's documentation shows; nothing in them needs to know.
 */
/** A migration file, as knex's own file source describes one (its CLI lists them by `file`). */
interface MigrationFile {
  file: string;
  directory: string;
}

export class SqliteMigrationSource implements Knex.MigrationSource<MigrationFile> {
  constructor(
    private readonly directory: string,
    /** `.ts` from source, `.js` from the build (paths.moduleExtension). */
    private readonly extension: string,
  ) {}

  async getMigrations(): Promise<MigrationFile[]> {
    return fs
      .readdirSync(this.directory)
      .filter((file) => path.extname(file) === this.extension && !file.endsWith('.d.ts'))
      .sort()
      .map((file) => ({ file, directory: this.directory }));
  }

  getMigrationName({ file }: MigrationFile): string {
    return file;
  }

  // knex reads `config.transaction` from a migration (Migrator's _useTransaction), though its
  // Migration type does not name it.
  async getMigration({
    file: migration,
  }: MigrationFile): Promise<Knex.Migration & { config: object }> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- knex's own source does too
    const { up, down } = require(path.join(this.directory, migration)) as MigrationModule;
    return {
      up: (knex) => checkedWithoutForeignKeys(knex, migration, up),
      down: down && ((knex) => checkedWithoutForeignKeys(knex, migration, down)),
      // Our own transaction, below: knex's would begin before the pragma could be set.
      config: { transaction: false },
    };
  }
}

async function checkedWithoutForeignKeys(
  knex: Knex,
  migration: string,
  change: (knex: Knex) => Promise<unknown>,
): Promise<void> {
  await knex.transaction(
    async (trx) => {
      await change(trx);
      const broken: { table: string; parent: string }[] = await trx.raw('PRAGMA foreign_key_check');
      if (broken.length > 0) {
        const pairs = [...new Set(broken.map(({ table, parent }) => `${table} → ${parent}`))];
        throw new Error(
          `${migration} would leave ${broken.length} row(s) referring to rows that do not ` +
            `exist (${pairs.join(', ')}); nothing was changed`,
        );
      }
    },
    { enforceForeignCheck: false },
  );
}
