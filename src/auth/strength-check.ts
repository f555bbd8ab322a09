import type { Request } from 'express';
import type { Config } from '../config';
import { clientIp } from '../security/client-address';
import type { FieldErrors, FieldSuggestions } from '../accounts/forms';
import type { PasswordWorkOwner } from '../passwords/password-pool';
import { strengthProblem } from '../passwords/password-policy';
import type { Throttle } from './throttle';

/** What a refused new password shows beside its field: zxcvbn's warning and its advice. */
export interface WeakPassword {
  errors: FieldErrors;
  suggestions: FieldSuggestions;
}

/**
 * zxcvbn's estimate for a new password: the last rule it meets, and the only costly one (up to
 * about 90 ms of a password thread). One address sending 64-digit passwords in forty parallel
 * loops once turned every other visitor's login into a 503, because the estimate ran before the
 * throttle and outside the password threads' fair shares. So the routes call this only once
 * every other field has passed (a form refused for its username costs no estimate), after their
 * own limits (registrations per address, the password confirmation); here the estimate first
 * spends a point of the address's budget, then runs as `owner`'s work, in its fair share.
 */
export function strengthCheck(deps: { config: Config; throttle: Throttle }) {
  const { config, throttle } = deps;
  return async (
    req: Request,
    owner: PasswordWorkOwner,
    { field, password, username }: { field: string; password: string; username: string },
  ): Promise<WeakPassword | undefined> => {
    // Turned off (PASSWORD_MIN_SCORE=0): no estimate, so nothing to count either.
    if (config.passwordMinScore <= 0) return undefined;
    await throttle.strengthEstimate(clientIp(req));
    const context = { minScore: config.passwordMinScore, siteName: config.siteName, username };
    const problem = await strengthProblem(password, context, owner);
    if (!problem) return undefined;
    return {
      errors: { [field]: problem.message },
      suggestions: problem.suggestions?.length ? { [field]: problem.suggestions } : {},
    };
  };
}
