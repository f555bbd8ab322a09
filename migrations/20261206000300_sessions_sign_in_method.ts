import type { Knex } from 'knex';

/**
 * How each session was signed in (password; password and authenticator code; password and
 * recovery code), in a column of its own like its owner and device, so that the "Your sessions"
 * page reads it without reading the session JSON. Empty for sessions from before.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (table) => {
    table.string('sign_in_method', 40).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (table) => table.dropColumn('sign_in_method'));
}
