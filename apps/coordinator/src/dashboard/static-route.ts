import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/** Path the plan dashboard is served under. */
export const DASHBOARD_PATH = '/dashboard';

/**
 * The dashboard's files: `apps/coordinator/dashboard/`, beside `src/` and `dist/`, so the same path resolves from
 * the TypeScript sources (tests) and from the build. They ship with the package (`files`) and the Docker image.
 */
export const DASHBOARD_ASSETS = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/**
 * Serves the dashboard's static page, styles and scripts. They hold no data and need no token: the page asks for
 * the API token and sends it as a bearer token on every /v1 request. `/` redirects to it.
 */
export function dashboardRouter(): Router {
  if (!existsSync(DASHBOARD_ASSETS)) {
    throw new Error(
      `the dashboard's files are missing at ${DASHBOARD_ASSETS}: reinstall the coordinator package`,
    );
  }
  const router = Router();
  router.get('/', (_req, res) => res.redirect(302, `${DASHBOARD_PATH}/`));
  router.use(
    DASHBOARD_PATH,
    express.static(DASHBOARD_ASSETS, {
      index: 'index.html',
      redirect: true,
      fallthrough: true,
      // a new coordinator version must not run an old cached script against its API
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  return router;
}
