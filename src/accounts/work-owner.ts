import type { Request } from 'express';
import { addressKey, clientIp } from '../security/client-address';
import type { PasswordWorkOwner } from '../passwords/password-pool';
import { normaliseUsername } from './usernames';

/** Who password work for this request is for: the password threads' fair shares. */
export function workOwner(req: Request, username?: string): PasswordWorkOwner {
  const address = addressKey(clientIp(req));
  return username === undefined ? { address } : { address, account: normaliseUsername(username) };
}
