import { when } from './moments';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { parseForm } from '../accounts/forms';
import { currentUser, requireLogin } from '../auth/require-login';
import { requireRecentAuth } from '../auth/require-recent-auth';
import type { AppDependencies } from '../dependencies';
import { describeDevice } from '../session/device-name';
import { setFlash } from '../session/flash';
import type { SessionSummary } from '../session/user-sessions';

const revokeForm = z.object({ session: z.string().regex(/^[\w-]{22}$/) });

/** How each session was signed in, in words (the table's sign_in_method). */
const SIGN_IN_METHODS: Record<string, string> = {
  password: 'Password',
  'password+totp': 'Password and authenticator app',
  'password+recovery-code': 'Password and a recovery code',
  'password+passkey': 'Password and a passkey',
  passkey: 'Passkey',
};

/**
 * "Your sessions": every signed-in device of this user, from the session table's own columns,
 * and a way to sign any of them out. Signing out is sensitive (someone at a shared computer
 * could otherwise sign the owner out everywhere), so it asks for a recent password entry.
 */
export function sessionRoutes(deps: AppDependencies): Router {
  const { config, userSessions, securityLog } = deps;
  const router = Router();
  router.use(
    '/account/sessions',
    requireLogin,
    requireRecentAuth(config.session.recentAuthMinutes, '/account/sessions'),
  );

  const render = (res: Response, sessions?: SessionSummary[]) => {
    const now = Date.now();
    res.render('sessions', {
      title: 'Your sessions',
      // MemoryStore keeps sessions as JSON in this process only: without the table's user_id
      // column there is nothing to list them by (see docs/sessions.md, "Your sessions").
      databaseStore: userSessions !== undefined,
      recordIp: config.session.recordIp,
      sessions: sessions?.map((session) => ({
        ...session,
        device: describeDevice(session.userAgent),
        signedIn: session.createdAt && when(session.createdAt, now),
        lastActive: session.lastSeenAt && when(session.lastSeenAt, now),
        signedInWith: SIGN_IN_METHODS[session.signInMethod ?? ''],
      })),
    });
  };

  router.get('/account/sessions', async (req, res) => {
    if (!userSessions) return render(res);
    render(res, await userSessions.list(currentUser(req).id, req.sessionID));
  });

  router.post('/account/sessions/revoke', async (req: Request, res) => {
    const user = currentUser(req);
    const form = parseForm(revokeForm, req.body);
    // A handle names a row only among this user's own sessions: another user's is "not found".
    if (!form.ok || !userSessions || !(await userSessions.revoke(user.id, form.data.session))) {
      res.status(404);
      return render(res, await userSessions?.list(user.id, req.sessionID));
    }
    securityLog.record(req, 'session_revoked', { userId: user.id, reason: 'one, by its owner' });
    setFlash(res, 'session-revoked');
    res.redirect(303, '/account/sessions');
  });

  router.post('/account/sessions/revoke-others', async (req, res) => {
    const user = currentUser(req);
    const count = (await userSessions?.revokeOthers(user.id, req.sessionID)) ?? 0;
    securityLog.record(req, 'session_revoked', {
      userId: user.id,
      reason: `all others (${count}), by their owner`,
    });
    setFlash(res, 'other-sessions-revoked');
    res.redirect(303, '/account/sessions');
  });

  return router;
}
