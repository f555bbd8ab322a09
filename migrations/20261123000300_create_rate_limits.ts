import type { Knex } from 'knex';

/**
 * Counters for login and registration throttling, in the shape rate-limiter-flexible reads and
 * writes (one row per key; `expire` in ms since the epoch). In the database, not in process
 * memory, so every app instance counts the same failures.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rate_limits', (table) => {
    const key = table.string('key', 255).primary();
    // Keys hold IPs and normalised usernames: compared exactly, as on the other databases.
    if (knex.client.dialect === 'mysql') key.collate('utf8mb4_bin');
    table.integer('points').notNullable().defaultTo(0);
    table.bigInteger('expire').index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limits');
}
