import type { RequestHandler } from 'express';

/**
 * Records the pages a signed-in session views, newest first, at most `limit` of them, and puts
 * them in `res.locals.history` for the layout's footer.
 *
 * Only successful page renders of GET requests count: not assets (served before the session),
 * not redirects, errors or form posts. Only the path is kept: a query string can carry a search
 * term or a token that has no business in the sessions table.
 *
 * Anonymous visitors are not recorded unless `forAnonymous` is set: recording them needs a
 * session row and a cookie for every visitor, every bot included, which
 * `saveUninitialized: false` exists to avoid.
 */
export function pageHistory({
  limit,
  forAnonymous,
}: {
  limit: number;
  forAnonymous: boolean;
}): RequestHandler {
  return (req, res, next) => {
    // No req.session at all when logOut() ended it earlier in this request.
    const session = req.session as typeof req.session | undefined;
    res.locals.history = session?.history ?? [];
    const recorded = session?.userId !== undefined || (forAnonymous && session !== undefined);
    if (req.method !== 'GET' || !recorded || limit === 0) {
      next();
      return;
    }
    // Read now: routers rewrite req.path as the request travels through them.
    const path = req.path;
    const render = res.render.bind(res) as (...args: unknown[]) => void;
    // Recorded at render time, the only point where the status is known and the session has not
    // yet been saved (express-session saves when the response ends).
    res.render = ((...args: unknown[]) => {
      if (res.statusCode === 200) {
        const history = [path, ...(req.session.history ?? [])].slice(0, limit);
        req.session.history = history;
        res.locals.history = history;
      }
      render(...args);
    }) as typeof res.render;
    next();
  };
}
