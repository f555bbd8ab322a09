import type { Knex } from 'knex';

/**
 * An e-mail address on the account, and the tokens that e-mailed links carry.
 *
 * users.email is the verified address (UNIQUE: one account per address); users.pending_email an
 * address waiting for its link to be followed (not unique: typing someone else's address claims
 * nothing). Names of 254 characters at most, the longest address SMTP can carry.
 *
 * account_tokens keeps only the SHA-256 of each token: a leaked table opens nothing. A token
 * has a purpose (verify an address, reset a password), an expiry, and goes with its user.
 */
export async function up(knex: Knex): Promise<void> {
  const isMySQL = knex.client.dialect === 'mysql';
  const timestamp = (table: Knex.CreateTableBuilder | Knex.AlterTableBuilder, name: string) =>
    isMySQL ? table.dateTime(name) : table.timestamp(name, { useTz: true });

  await knex.schema.alterTable('users', (table) => {
    const email = table.string('email', 254).nullable().unique();
    // Compared exactly on every database (MySQL's default collation ignores case).
    if (isMySQL) email.collate('utf8mb4_bin');
    table.string('pending_email', 254).nullable();
    timestamp(table, 'email_verified_at').nullable();
  });

  await knex.schema.createTable('account_tokens', (table) => {
    table.increments('id');
    const userId = table.integer('user_id').notNullable();
    if (isMySQL) userId.unsigned();
    userId.references('id').inTable('users').onDelete('CASCADE');
    table.string('purpose', 32).notNullable();
    table.string('token_hash', 64).notNullable().unique();
    /** For a verification link: the address it verifies. */
    table.string('email', 254).nullable();
    timestamp(table, 'expires_at').notNullable();
    timestamp(table, 'created_at').notNullable();
    table.index(['user_id', 'purpose']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('account_tokens');
  await knex.schema.alterTable('users', (table) => {
    table.dropUnique(['email']);
    table.dropColumns('email', 'pending_email', 'email_verified_at');
  });
}
