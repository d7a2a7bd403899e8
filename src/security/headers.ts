// Security headers (helmet) with a Content-Security-Policy our pages pass: no inline script or
// style (they live in public/js and public/css), frames only from us. The overlay pages,
// meant to be embedded (OBS browser sources, a streamer's site), may be framed by anyone.
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** Pages that may be embedded in another site's frame: the vote widget and the viewer. */
export const OVERLAY_PAGES = ['/vote', '/vote.html', '/viewer', '/viewer.html'];

function policy(frameAncestors: string[]) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:', 'mediastream:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors,
      },
    },
    // TLS ends at the load balancer (if anywhere): it is the one to send HSTS.
    strictTransportSecurity: false,
    xFrameOptions: frameAncestors.includes("'none'") ? { action: 'deny' } : false,
  });
}

export function securityHeaders(): RequestHandler {
  const page = policy(["'none'"]);
  const overlay = policy(['*']);
  return (req, res, next) => (OVERLAY_PAGES.includes(req.path) ? overlay : page)(req, res, next);
}
