import helmet from 'helmet';
import type { RequestHandler } from 'express';
import type { Config } from '../config';

/**
 * Browser features this site never uses, turned off for its pages and anything framed in them:
 * an injected script (or a compromised dependency) cannot ask for the camera, the location or a
 * payment. Only features that Chromium, Firefox and Safari all recognise, so no console noise.
 */
const PERMISSIONS_POLICY = [
  'accelerometer',
  'autoplay',
  'camera',
  'display-capture',
  'encrypted-media',
  'fullscreen',
  'geolocation',
  'gyroscope',
  'magnetometer',
  'microphone',
  'midi',
  'payment',
  'picture-in-picture',
  'usb',
]
  .map((feature) => `${feature}=()`)
  .join(', ');

/**
 * For pages that hold something private or one-time (a set-up key, recovery codes, a half-done
 * sign-in): no copy kept by the browser or anything between, so Back after a logout shows none.
 */
export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

/**
 * helmet, tightened: pages may load only this site's own scripts, styles and images; plus a
 * Permissions-Policy, which helmet does not set.
 */
export function securityHeaders(config: Config): RequestHandler {
  const helmetHeaders = helmet({
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
  return (req, res, next) => {
    res.set('Permissions-Policy', PERMISSIONS_POLICY);
    helmetHeaders(req, res, next);
  };
}
