import type { Knex } from 'knex';

/**
 * MySQL and MariaDB keep DATETIME to the whole second unless asked for more, so a session's
 * expiry (and a mailed link's) was cut to the second: a session set to expire in 100 ms could
 * count as live, or as gone, up to a second off. Session and token times keep milliseconds from
 * here on, as PostgreSQL's timestamps and SQLite's ISO text always have; nothing changes on
 * those. MODIFY keeps the values and the index on `expired`.
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.dialect !== 'mysql') return;
  await knex.raw(`ALTER TABLE sessions
    MODIFY expired DATETIME(3) NOT NULL,
    MODIFY created_at DATETIME(3) NULL,
    MODIFY last_seen_at DATETIME(3) NULL`);
  await knex.raw(`ALTER TABLE account_tokens
    MODIFY expires_at DATETIME(3) NOT NULL,
    MODIFY created_at DATETIME(3) NOT NULL`);
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.dialect !== 'mysql') return;
  await knex.raw(`ALTER TABLE sessions
    MODIFY expired DATETIME NOT NULL,
    MODIFY created_at DATETIME NULL,
    MODIFY last_seen_at DATETIME NULL`);
  await knex.raw(`ALTER TABLE account_tokens
    MODIFY expires_at DATETIME NOT NULL,
    MODIFY created_at DATETIME NOT NULL`);
}
