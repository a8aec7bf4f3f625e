import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { UnauthorizedError } from './errors/public-error.js';

/** Cookie that carries the UI session after `/ui?token=<token>`: a digest of the token, never the token. */
export const UI_COOKIE = 'sb_token';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Digests are 32 bytes either way, so the comparison neither throws nor leaks the token's length. */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function uiCookieValue(token: string): string {
  return createHash('sha256').update(`shardbridge-ui:${token}`).digest('hex');
}

function bearer(req: Request): string | null {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match ? match[1] : null;
}

function cookie(req: Request, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Rejects a request without `Authorization: Bearer <token>`. No token configured = open. */
export function requireToken(token: string | undefined): RequestHandler {
  return (req, _res, next) => {
    if (token === undefined) return next();
    const given = bearer(req);
    if (given === null) return next(new UnauthorizedError('send Authorization: Bearer <token>'));
    if (!sameSecret(given, token)) return next(new UnauthorizedError('the bearer token is not valid'));
    next();
  };
}

/**
 * Guards the queue UI: a bearer token, or the session cookie. Visiting `/ui?token=<token>` once sets the cookie
 * (HttpOnly, SameSite=Strict, path /ui) and redirects to the same page without the token in the address bar.
 */
export function requireUiToken(token: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (token === undefined) return next();
    const query = typeof req.query.token === 'string' ? req.query.token : null;
    if (query !== null) {
      if (!sameSecret(query, token)) return next(new UnauthorizedError('the token is not valid'));
      const secure = req.secure ? '; Secure' : '';
      res.setHeader(
        'Set-Cookie',
        `${UI_COOKIE}=${uiCookieValue(token)}; Path=${req.baseUrl || '/'}; HttpOnly; SameSite=Strict${secure}`,
      );
      res.redirect(303, `${req.baseUrl}${req.path}`);
      return;
    }
    const session = cookie(req, UI_COOKIE);
    if (session !== null && sameSecret(session, uiCookieValue(token))) return next();
    const given = bearer(req);
    if (given !== null && sameSecret(given, token)) return next();
    next(new UnauthorizedError('send Authorization: Bearer <token>, or open /ui?token=<token> once'));
  };
}
