import type { Page } from 'puppeteer-core';

/** One shard row as the dashboard shows it (cell texts). */
export interface ShownShard {
  id: string;
  announced: string;
  reachable: string;
  phase: string;
  offset: string;
  opsPerSecond: string;
  lag: string;
  lastError: string;
  retryDisabled: boolean;
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.waitForSelector('#sign-in:not([hidden]) #token', { visible: true });
  await page.type('#token', token);
  await page.click('#sign-in-form button[type=submit]');
}

/** The shard rows of the open plan page. */
export function shownShards(page: Page): Promise<ShownShard[]> {
  return page.$$eval('table.shards tbody tr', (rows) =>
    rows.map((row) => {
      const text = (selector: string) => row.querySelector(selector)?.textContent?.trim() ?? '';
      return {
        id: row.getAttribute('data-shard') ?? '',
        announced: text('[data-part=announced]'),
        reachable: text('[data-part=reachable]'),
        phase: text('[data-field=phase]'),
        offset: text('[data-field=offset]'),
        opsPerSecond: text('[data-field=opsPerSecond]'),
        lag: text('[data-field=lag]'),
        lastError: text('[data-field=lastError]'),
        retryDisabled:
          (row.querySelector('[data-action=retry]') as HTMLButtonElement | null)?.disabled ?? true,
      };
    }),
  );
}

/** Waits until the page shows shard `shardId` in `phase` (the page polls the API every 2 s). */
export async function waitForPhase(
  page: Page,
  shardId: string,
  phase: string,
  timeout = 90_000,
): Promise<void> {
  await page.waitForFunction(
    (id, expected) =>
      document.querySelector(`tr[data-shard="${CSS.escape(id)}"] [data-field=phase]`)?.textContent?.trim() ===
      expected,
    { timeout, polling: 250 },
    shardId,
    phase,
  );
}
