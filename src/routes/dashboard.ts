import { Router } from 'express';
import { currentUser, requireLogin } from '../auth/require-login';
import type { AppDependencies } from '../dependencies';
import { sessionPanel } from '../session/session-panel';

/** The private area: every route here goes through requireLogin first. */
export function dashboardRoutes({ config, db }: AppDependencies): Router {
  const router = Router();
  router.get('/dashboard', requireLogin, (req, res) => {
    res.render('dashboard', { title: 'Dashboard', user: currentUser(req) });
  });
  // For learners: the visitor's own session, cookie and row (session/session-panel.ts).
  router.get('/session', requireLogin, async (req, res) => {
    res.render('session', {
      title: 'Your session',
      panel: await sessionPanel(req, config, db),
      docs: config.docsUrl,
    });
  });
  return router;
}
