import { Router, type Request, type Response } from 'express';
import { parseForm, passkeyNameForm, type FieldErrors } from '../accounts/forms';
import { currentUser, requireLogin } from '../auth/require-login';
import { requireRecentAuth } from '../auth/require-recent-auth';
import type { AppDependencies } from '../dependencies';
import { relyingParty } from '../factors/passkey-ceremonies';
import { passkeyNotice } from '../mail/notices';
import { noStore } from '../security/headers';
import { setFlash } from '../session/flash';
import { when } from './moments';

const PAGE = '/account/passkeys';

/**
 * /account/passkeys: the account's passkeys (name, added, last used, synced or not), and the
 * actions: add one, rename one, remove one. Adding and removing need a recent password (sudo
 * mode), as every change to how the account signs in does; renaming does not. Removing any
 * passkey, the last one too, is always allowed: every account here keeps its password.
 */
export function passkeyRoutes(deps: AppDependencies): Router {
  const { config, securityLog, passkeys, passkeyCeremonies } = deps;
  const notify = passkeyNotice(deps);
  const router = Router();
  const guarded = [requireLogin, requireRecentAuth(config.session.recentAuthMinutes, PAGE)];
  router.use(PAGE, noStore);

  const render = async (
    req: Request,
    res: Response,
    status = 200,
    errors: FieldErrors = {},
    typed: Record<string, string> = {},
  ) => {
    const user = currentUser(req);
    const list = await passkeys.listFor(user.id);
    const now = Date.now();
    res.status(status).render('passkeys', {
      title: 'Passkeys',
      passkeys: list.map((passkey) => ({
        ...passkey,
        added: when(passkey.createdAt, now),
        lastUsed: passkey.lastUsedAt && when(passkey.lastUsedAt, now),
      })),
      // Each name as stored, or as typed when the form came back with an error about it.
      values: { ...Object.fromEntries(list.map(({ id, name }) => [`name-${id}`, name])), ...typed },
      available: relyingParty(req, config) !== undefined,
      // At 127.0.0.1 in development: the same page at localhost, where passkeys work.
      port: /:(\d+)$/.exec(req.get('host') ?? '')?.[1],
      errors,
    });
  };

  router.get(PAGE, requireLogin, (req, res) => render(req, res));

  router.post(`${PAGE}/options`, guarded, async (req: Request, res: Response) => {
    const rp = relyingParty(req, config);
    if (!rp) return res.status(409).json({ error: 'Passkeys need the site at its name.' });
    res.json(await passkeyCeremonies.registrationOptions(req, rp, currentUser(req)));
  });

  router.post(PAGE, guarded, async (req: Request, res: Response) => {
    const user = currentUser(req);
    const rp = relyingParty(req, config);
    const added = rp
      ? await passkeyCeremonies.register(req, rp, user.id, req.body?.credential)
      : { ok: false as const, reason: 'no relying party here' };
    if (!added.ok) {
      securityLog.record(req, 'passkey_failed', { userId: user.id, reason: added.reason });
      const message = 'The passkey was not added. Try again, with the same or another device.';
      return render(req, res, 400, { passkey: message });
    }
    securityLog.record(req, 'passkey_added', { userId: user.id });
    notify(res, user, 'added', added.value.name);
    setFlash(res, 'passkey-added');
    res.redirect(303, PAGE);
  });

  // A row id, or this is not one of ours: a 404, not a database error over "NaN".
  router.param('id', (req, _res, next, id: string) => {
    if (/^[1-9]\d{0,8}$/.test(id)) next();
    else next('route');
  });

  router.post(`${PAGE}/:id/rename`, requireLogin, async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    // Each passkey's field has a name of its own, so the page's ids stay unique.
    const field = `name-${id}`;
    const typed: unknown = req.body?.[field];
    const form = parseForm(passkeyNameForm, { name: typed });
    if (!form.ok) {
      const kept = typeof typed === 'string' ? { [field]: typed } : {};
      return render(req, res, 400, { [field]: form.errors.name ?? '' }, kept);
    }
    const renamed = await passkeys.rename(currentUser(req).id, id, form.data.name);
    if (renamed) setFlash(res, 'passkey-renamed');
    res.redirect(303, PAGE);
  });

  router.post(`${PAGE}/:id/remove`, guarded, async (req: Request, res: Response) => {
    const user = currentUser(req);
    const removed = await passkeys.remove(user.id, Number(req.params.id));
    if (removed !== undefined) {
      securityLog.record(req, 'passkey_removed', { userId: user.id });
      notify(res, user, 'removed', removed);
      setFlash(res, 'passkey-removed');
    }
    res.redirect(303, PAGE);
  });

  return router;
}
