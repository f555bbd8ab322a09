import helmet from 'helmet';
import type { RequestHandler } from 'express';
import type { Config } from '../config';

/** helmet, tightened: pages may load only this site's own scripts, styles and images. */
export function securityHeaders(config: Config): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        'default-src': ["'self'"],
        // No inline script or style anywhere, so an injected <script> or style= does nothing.
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'"],
        'font-src': ["'self'"],
        'object-src': ["'none'"],
        // 'none', not helmet's 'self': an injected <base> could otherwise repoint relative URLs.
        'base-uri': ["'none'"],
        'form-action': ["'self'"],
        // No framing at all: clickjacking needs a frame.
        'frame-ancestors': ["'none'"],
        // Over plain http (development) this would rewrite asset URLs to an https that isn't there.
        'upgrade-insecure-requests': config.isProduction ? [] : null,
      },
    },
    // HSTS over http is ignored, and on localhost it would pin every local project to https.
    strictTransportSecurity: config.isProduction
      ? { maxAge: 365 * 24 * 60 * 60, includeSubDomains: true }
      : false,
    referrerPolicy: { policy: 'same-origin' },
    xFrameOptions: { action: 'deny' },
  });
}
