import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import type { Config } from '../config';
import type { OutboxMessage } from '../mail/mailer';

/** 127.0.0.0/8 and ::1, also as a dual-stack socket reports them ("::ffff:127.0.0.1"). */
const isLoopback = (address: string | undefined) =>
  address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));

/**
 * /dev/outbox: the development outbox, to follow a verification or reset link without a mail
 * server. Mounted only when mail goes to the outbox (development without MAIL_URL); anywhere
 * else these addresses are a 404 like any other.
 *
 * It shows everyone's mail, links that sign in included: only a browser on this machine sees
 * it. A development server that listens on every interface (HOST=0.0.0.0), or sits behind a
 * proxy, answers everyone else with the same 404. (A web page that rebinds its own name to
 * 127.0.0.1 is stopped before this, by the Host allow-list.)
 */
export function outboxRoutes(config: Config): Router {
  const router = Router();
  const dir = config.mail.outboxDir;

  router.use('/dev/outbox', (req, _res, next) => {
    // The connection's own peer, and the client a trusted proxy names, if there is one.
    const local = isLoopback(req.socket.remoteAddress) && isLoopback(req.ip);
    next(local ? undefined : 'router');
  });

  const messages = (): OutboxMessage[] => {
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .reverse()
      .map((file) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as OutboxMessage);
  };

  router.get('/dev/outbox', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.render('outbox', { title: 'Development outbox', messages: messages() });
  });

  router.get('/dev/outbox/:id', (req, res, next) => {
    res.set('Cache-Control', 'no-store');
    const message = messages().find((candidate) => candidate.id === req.params.id);
    if (!message) return next();
    const links = message.text.match(/https?:\/\/\S+/g) ?? [];
    res.render('outbox-message', { title: message.subject, message, links });
  });

  return router;
}
