import type { Knex } from 'knex';
import { normaliseUsername } from '../src/accounts/usernames';

/**
 * Usernames gained width mapping (RFC 8265): "ｄｅｍｏ" is now the name "demo". Rows stored
 * before were lower case and NFC already, but could hold fullwidth or halfwidth letters, which
 * lookups no longer produce; this renames them to the form lookups use, so they still log in.
 * A row whose new form is another account's name is left as it was and reported: renaming one
 * person onto another's account is not a migration's decision to make.
 */
export async function up(knex: Knex): Promise<void> {
  for await (const { id, username } of allUsers(knex)) {
    const normalised = normaliseUsername(username);
    if (normalised === username) continue;
    if (await knex('users').where({ username: normalised }).first()) {
      console.warn(
        `users.id ${id}: its name now reads as another account's; left unchanged. ` +
          'Rename it by hand so its owner can log in.',
      );
      continue;
    }
    await knex('users').where({ id }).update({ username: normalised });
  }
}

/** Every row, a page at a time, so a large table is not read into memory at once. */
async function* allUsers(knex: Knex) {
  for (let after = 0; ;) {
    const page: { id: number; username: string }[] = await knex('users')
      .select('id', 'username')
      .where('id', '>', after)
      .orderBy('id')
      .limit(1000);
    yield* page;
    const last = page.at(-1);
    if (!last) return;
    after = last.id;
  }
}

/** Nothing to undo: the old spellings are not kept, and the new ones log in either way. */
export async function down(): Promise<void> {}
