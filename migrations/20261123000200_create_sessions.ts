import type { Knex } from 'knex';

/**
 * The express-session table, in the shape connect-session-knex reads and writes. The migration
 * owns it (the store runs with createTable: false) so every database gets the same schema and
 * the expiry index the cleanup query needs.
 */
export async function up(knex: Knex): Promise<void> {
  const isMySQL = knex.client.dialect === 'mysql';
  await knex.schema.createTable('sessions', (table) => {
    const sid = table.string('sid', 255).primary();
    // Session ids are case-sensitive; MySQL's default collation is not.
    if (isMySQL) sid.collate('utf8mb4_bin');
    table.json('sess').notNullable();
    if (isMySQL) {
      table.dateTime('expired').notNullable().index();
    } else {
      table.timestamp('expired', { useTz: true }).notNullable().index();
    }
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sessions');
}
