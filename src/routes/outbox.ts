import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import type { Config } from '../config';
import type { OutboxMessage } from '../mail/mailer';

/**
 * /dev/outbox: the development outbox, to follow a verification or reset link without a mail
 * server. Mounted only when mail goes to the outbox (development without MAIL_URL); anywhere
 * else these addresses are a 404 like any other.
 */
export function outboxRoutes(config: Config): Router {
  const router = Router();
  const dir = config.mail.outboxDir;

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
