import { Router } from 'express';
import { currentUser, requireLogin } from '../auth/require-login';
import type { AppDependencies } from '../app';

/** The private area: every route here goes through requireLogin first. */
export function dashboardRoutes(deps: AppDependencies): Router {
  const router = Router();
  router.get('/dashboard', requireLogin(deps), (req, res) => {
    res.render('dashboard', { title: 'Dashboard', user: currentUser(req) });
  });
  return router;
}
