import type { Knex } from 'knex';
import { hashPassword } from '../src/passwords/passwords';
import { createAccount, findAccountByUsername } from '../src/accounts/users';
import { readConfig } from '../src/config';

/** The demo account the README names. It meets the password rules it would be held to at sign-up. */
export const DEMO_USERNAME = 'demo';
export const DEMO_PASSWORD = 'paper lanterns over a quiet harbour';

export async function seed(knex: Knex): Promise<void> {
  const config = readConfig();
  // A published password must never open an account on a real deployment.
  if (config.env !== 'development') {
    console.log(
      `Seed skipped: the demo account exists in development only (NODE_ENV=${config.env}).`,
    );
    return;
  }
  if (await findAccountByUsername(knex, DEMO_USERNAME)) return;
  const passwordHash = await hashPassword(DEMO_PASSWORD, config.bcryptCost);
  await createAccount(knex, { username: DEMO_USERNAME, passwordHash });
  console.log(`Demo account created: ${DEMO_USERNAME} / ${DEMO_PASSWORD}`);
}
