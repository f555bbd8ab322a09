// The benchmark's ceiling: express rendering the same Pug pages with the same data, and nothing
// else. No session, no database, no security headers, no logging, so the distance between this
// and the real site is everything a login site adds to a page.
import express from 'express';
import { paths } from '../src/paths';

const app = express();
app.set('views', paths.views);
app.set('view engine', 'pug');
app.locals.siteName = 'express-session-starter';

// The same page, byte for byte give or take a few: the name as long as the bench accounts',
// a history as full as theirs is by the time anything is measured (ten entries, here cycling
// the pages of measurement 1), and a token as long as csrf-csrf's (64 hex digits, a dot, 64
// more). A shorter page would flatter the ceiling.
const user = { id: 1, username: 'bench-user-0', createdAt: new Date('2026-01-01T00:00:00Z') };
const pages = ['/dashboard', '/about', '/contact', '/'];
const history = Array.from({ length: 10 }, (_, index) => pages[index % pages.length]);
const token = 'c'.repeat(129);
app.use((_req, res, next) => {
  Object.assign(res.locals, { user, history, signedIn: true, csrfToken: () => token });
  next();
});

app.get('/', (_req, res) => res.render('home', { title: 'Home' }));
app.get('/about', (_req, res) => res.render('about', { title: 'About' }));
app.get('/contact', (_req, res) => res.render('contact', { title: 'Contact' }));
app.get('/dashboard', (_req, res) => res.render('dashboard', { title: 'Dashboard', user }));
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));

app.listen(Number(process.env.PORT), '127.0.0.1');
