import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (table) => {
    table.increments('id');
    // Stored normalised (NFC, lower case) so "Alice" and "alice" are one account; the UNIQUE
    // index, not a lookup before the insert, is what stops two simultaneous registrations.
    const username = table.string('username', 64).notNullable().unique();
    // MySQL compares text case- and accent-insensitively by default ("émile" = "emile"). Names
    // are already normalised, so they are compared exactly.
    if (knex.client.dialect === 'mysql') username.collate('utf8mb4_bin');
    table.string('password_hash', 255).notNullable();
    table.timestamps(true, true);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
}
