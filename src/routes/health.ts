import { Router } from 'express';
import type { Database } from '../db';
import { SESSIONS_TABLE } from '../session-store/store';

/** How long a readiness probe waits for the database before calling it not ready. */
const READINESS_TIMEOUT_MS = 2000;

/**
 * Probes for a load balancer or orchestrator. Mounted before the session middleware: they read
 * no cookie, write no row and record no history, however often they are polled.
 *
 * /healthz: the process is alive and serving (restart it if this fails).
 * /readyz: the database answers, migrations included (send it traffic only if this passes).
 */
export function healthRoutes(db: Database): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      await db(SESSIONS_TABLE).select('sid').limit(1).timeout(READINESS_TIMEOUT_MS);
      res.json({ status: 'ready' });
    } catch {
      res.status(503).set('Retry-After', '5').json({ status: 'not ready' });
    }
  });
  return router;
}
