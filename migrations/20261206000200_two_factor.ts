import type { Knex } from 'knex';

/**
 * Two-factor sign-in (docs/two-factor.md).
 *
 * totp_authenticators: one authenticator app per account, its secret sealed with AES-256-GCM
 * (security/secret-box.ts), never in plain text; `last_step` is the last 30-second step a code
 * was accepted for, so that a code, and any code older than it, works once across every instance.
 *
 * recovery_codes: one row per code, only its keyed hash, each used once (`used_at`).
 *
 * users.credentials_version: counts the changes of an account's credentials other than its
 * password (two-factor on or off, a recovery code spent). The session's credential stamp covers
 * it, so every other session of the account stops matching at once, with any session store.
 */
export async function up(knex: Knex): Promise<void> {
  const isMySQL = knex.client.dialect === 'mysql';
  const timestamp = (table: Knex.CreateTableBuilder, name: string) =>
    isMySQL ? table.dateTime(name, { precision: 3 }) : table.timestamp(name, { useTz: true });
  const owner = (table: Knex.CreateTableBuilder) => {
    const userId = table.integer('user_id').notNullable();
    if (isMySQL) userId.unsigned();
    userId.references('id').inTable('users').onDelete('CASCADE');
    return userId;
  };

  await knex.schema.createTable('totp_authenticators', (table) => {
    owner(table).primary();
    table.string('secret', 255).notNullable();
    table.bigInteger('last_step').nullable();
    timestamp(table, 'created_at').notNullable();
  });

  await knex.schema.createTable('recovery_codes', (table) => {
    table.increments('id');
    owner(table).index();
    table.string('code_hash', 64).notNullable();
    timestamp(table, 'used_at').nullable();
    timestamp(table, 'created_at').notNullable();
  });

  await knex.schema.alterTable('users', (table) => {
    table.integer('credentials_version').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (table) => table.dropColumn('credentials_version'));
  await knex.schema.dropTable('recovery_codes');
  await knex.schema.dropTable('totp_authenticators');
}
