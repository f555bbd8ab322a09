import type { Knex } from 'knex';

/**
 * Counters for login and registration throttling, in the shape rate-limiter-flexible reads and
 * writes (one row per key; `expire` in ms since the epoch). In the database, not in process
 * memory, so every app instance counts the same failures.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rate_limits', (table) => {
    table.string('key', 255).primary();
    table.integer('points').notNullable().defaultTo(0);
    table.bigInteger('expire').index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limits');
}
