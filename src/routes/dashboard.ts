import { Router } from 'express';
import { currentUser, requireLogin } from '../auth/require-login';

/** The private area: every route here goes through requireLogin first. */
export function dashboardRoutes(): Router {
  const router = Router();
  router.get('/dashboard', requireLogin, (req, res) => {
    res.render('dashboard', { title: 'Dashboard', user: currentUser(req) });
  });
  return router;
}
