import type { Knex } from 'knex';

/**
 * The session row learns whose it is, so that "where am I signed in?" is one indexed query and a
 * password change can end every other session at once, by user id, instead of lazily:
 *
 * - `user_id`: the signed-in user (null for an anonymous session); indexed, and the rows go when
 *   the user goes (ON DELETE CASCADE);
 * - `created_at`: when the session was created (sign-in), `last_seen_at`: when it was last used,
 *   moved with the same writes that move `expired` (no extra write per page view);
 * - `user_agent` (at most 512 characters) and `ip`: the browser and the address at sign-in, for
 *   the person to recognise their devices by (ip is left empty with SESSION_RECORD_IP=false).
 *
 * connect-session-knex's own columns (sid, sess, expired) stay as they are. Existing sessions
 * stay valid: their user id and sign-in time are filled from the JSON they already hold.
 */
export async function up(knex: Knex): Promise<void> {
  const dialect = knex.client.dialect;
  const isMySQL = dialect === 'mysql';
  const timestamp = (table: Knex.AlterTableBuilder, name: string) =>
    isMySQL ? table.dateTime(name).nullable() : table.timestamp(name, { useTz: true }).nullable();

  await knex.schema.alterTable('sessions', (table) => {
    const userId = table.integer('user_id').nullable();
    if (isMySQL) userId.unsigned();
    userId.references('id').inTable('users').onDelete('CASCADE');
    userId.index();
    timestamp(table, 'created_at');
    timestamp(table, 'last_seen_at');
    table.string('user_agent', 512).nullable();
    // The longest text form of an address: an IPv4-mapped IPv6 address, 45 characters.
    table.string('ip', 45).nullable();
  });

  // From the JSON, in the database itself (one statement each, however many rows): the user id
  // where that user still exists, and the sign-in time (loginAt, ms since the epoch).
  if (dialect === 'postgresql') {
    await knex.raw(`UPDATE sessions SET user_id = users.id FROM users
      WHERE users.id::text = sessions.sess->>'userId'`);
    await knex.raw(`UPDATE sessions SET created_at = to_timestamp((sess->>'loginAt')::float8 / 1000)
      WHERE sess->>'loginAt' ~ '^[0-9]+$'`);
  } else if (isMySQL) {
    await knex.raw(`UPDATE sessions JOIN users ON users.id = JSON_EXTRACT(sessions.sess, '$.userId')
      SET sessions.user_id = users.id`);
    await knex.raw(`UPDATE sessions SET created_at = FROM_UNIXTIME(JSON_EXTRACT(sess, '$.loginAt') / 1000)
      WHERE JSON_TYPE(JSON_EXTRACT(sess, '$.loginAt')) IN ('INTEGER', 'DOUBLE')`);
  } else {
    await knex.raw(`UPDATE sessions SET user_id = (SELECT id FROM users
      WHERE users.id = json_extract(sessions.sess, '$.userId'))`);
    // The same ISO text the store writes.
    await knex.raw(`UPDATE sessions
      SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(sess, '$.loginAt') / 1000.0, 'unixepoch')
      WHERE json_type(sess, '$.loginAt') IN ('integer', 'real')`);
  }
  // Not known for the past: the sign-in time is the latest we can vouch for. The next request
  // that writes the row moves it on.
  await knex('sessions').update({ last_seen_at: knex.ref('created_at') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (table) => {
    table.dropForeign(['user_id']);
    table.dropIndex(['user_id']);
    table.dropColumns('user_id', 'created_at', 'last_seen_at', 'user_agent', 'ip');
  });
}
