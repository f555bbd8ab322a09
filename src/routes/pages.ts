import { Router } from 'express';

/** The public pages: anyone may read them, signed in or not. */
export function pageRoutes(): Router {
  const router = Router();
  router.get('/', (_req, res) => res.render('home', { title: 'Home' }));
  router.get('/about', (_req, res) => res.render('about', { title: 'About' }));
  router.get('/contact', (_req, res) => res.render('contact', { title: 'Contact' }));
  return router;
}
