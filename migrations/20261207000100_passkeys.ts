import type { Knex } from 'knex';

/**
 * Passkeys (docs/passkeys.md): one row per WebAuthn credential, its public key only (the private
 * key never leaves the authenticator).
 *
 * `credential_id` is unique across accounts: a sign-in without a username finds its account by
 * it. Up to 512 characters of base64url (384 bytes); WebAuthn allows longer ids, which the site
 * refuses at registration rather than cut, and every authenticator seen in practice stays far
 * below. `user_handle` is the random id the authenticator stores for the account, the same on
 * every passkey of one account, and never its database id or name. `counter` is the signature
 * counter, 0 for passkeys that sync between devices. `transports` as the browser reported them,
 * comma-separated, to hint how to reach the authenticator next time.
 */
export async function up(knex: Knex): Promise<void> {
  const isMySQL = knex.client.dialect === 'mysql';
  const timestamp = (table: Knex.CreateTableBuilder, name: string) =>
    isMySQL ? table.dateTime(name, { precision: 3 }) : table.timestamp(name, { useTz: true });

  await knex.schema.createTable('passkeys', (table) => {
    table.increments('id');
    const userId = table.integer('user_id').notNullable();
    if (isMySQL) userId.unsigned();
    userId.references('id').inTable('users').onDelete('CASCADE');
    table.index(['user_id']);
    table.string('credential_id', 512).notNullable().unique();
    table.string('user_handle', 64).notNullable();
    table.text('public_key').notNullable();
    table.bigInteger('counter').notNullable().defaultTo(0);
    table.string('transports', 255).notNullable().defaultTo('');
    table.boolean('backed_up').notNullable().defaultTo(false);
    table.string('device_type', 16).notNullable();
    table.string('name', 100).notNullable();
    timestamp(table, 'created_at').notNullable();
    timestamp(table, 'last_used_at').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('passkeys');
}
