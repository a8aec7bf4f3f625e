import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { keySlot, startRedis, type RedisCluster, type RedisServer } from '@shardbridge/testkit';
import { call, waitForShards, allIncremental } from '../control-plane/support/api.js';
import {
  clusterPlan,
  loadClusterData,
  masterOf,
  startClusterWrites,
  startNatSourceCluster,
  startQueueRedis,
  syncCounters,
} from '../control-plane/support/cluster-data.js';
import { ClusterRouter } from '../control-plane/support/cluster-router.js';
import { API_TOKEN } from '../control-plane/support/processes.js';
import {
  startInProcessControlPlane,
  type InProcessControlPlane,
} from '../support/in-process-control-plane.js';
import { launchChromium } from './support/browser.js';
import { shownShards, signIn, waitForPhase } from './support/dashboard-page.js';

// Issue 17: the plan dashboard in headless Chromium (Debian's package, driven by puppeteer-core) against a real
// coordinator, a worker, a 3-master source behind simulated NAT and a standalone target. The page must refuse to
// show anything without the token, list the shards with their announced and reachable addresses, show the
// offsets move while writes run, and resume a failed shard with +CONTINUE from its Retry button.

/** The suites' token: waitForShards and call send it. */
const TOKEN = API_TOKEN;
/** Set to a directory to save the README's screenshots there (docs/images). */
const SCREENSHOTS = process.env.SHARDBRIDGE_DASHBOARD_SCREENSHOTS;

describe('plan dashboard in headless Chromium', () => {
  let queue: RedisServer;
  let source: RedisCluster;
  let target: RedisServer;
  let router: ClusterRouter;
  let plane: InProcessControlPlane;
  let browser: Browser;
  let page: Page;
  let planId: string;
  const api = (path: string, options: { method?: string; token?: string | null } = {}) =>
    call(plane.url, path, { token: TOKEN, ...options });

  beforeAll(async () => {
    [queue, source, target] = await Promise.all([startQueueRedis(), startNatSourceCluster(), startRedis()]);
    router = await ClusterRouter.open(source);
    await loadClusterData(router, 20);
    // the history sampled every half second, so the charts fill within the test
    plane = await startInProcessControlPlane(queue, { apiToken: TOKEN, historyIntervalMs: 500 });
    const submitted = await call(plane.url, '/v1/plans', {
      body: clusterPlan('orders-cache', source, { type: 'standalone', server: target }),
      token: TOKEN,
    });
    expect(submitted.status, submitted.text).toBe(201);
    planId = submitted.body.id;
    await waitForShards(plane.url, planId, 'every shard streaming', allIncremental, { timeoutMs: 120_000 });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setViewport({ width: 1366, height: 900 });
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    router?.disconnect();
    await plane?.close();
    await Promise.all([queue?.stop(), source?.stop(), target?.stop()]);
  });

  it('shows nothing but the sign-in form without the token, and refuses a wrong one', async () => {
    await page.goto(`${plane.url}/`, { waitUntil: 'networkidle0' });
    expect(new URL(page.url()).pathname).toBe('/dashboard/');
    await page.waitForSelector('#sign-in:not([hidden])', { visible: true });
    expect(await page.$eval('#view', (view) => (view as HTMLElement).hidden)).toBe(true);
    expect(await page.content()).not.toContain(planId);
    // the page's own API calls are refused too
    const answers = await page.evaluate(async (id) => {
      const list = await fetch('/v1/plans');
      const history = await fetch(`/v1/plans/${id}/history`);
      return [list.status, history.status];
    }, planId);
    expect(answers).toEqual([401, 401]);

    await signIn(page, 'not-the-token');
    await page.waitForSelector('#sign-in-error:not([hidden])', { visible: true });
    expect(await page.$eval('#sign-in-error', (el) => el.textContent)).toMatch(/refused this token \(401\)/);
    expect(await page.$eval('#view', (view) => (view as HTMLElement).hidden)).toBe(true);
    expect(await page.content()).not.toContain(planId);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('lists the plan, then its 3 shards with announced (NAT) and reachable addresses', async () => {
    await page.$eval('#token', (input) => ((input as HTMLInputElement).value = ''));
    await signIn(page, TOKEN);
    await page.waitForSelector(`tr[data-plan="${planId}"] a`, { visible: true });
    await page.click(`tr[data-plan="${planId}"] a`);
    await page.waitForFunction(() => document.querySelectorAll('table.shards tbody tr').length === 3, {
      timeout: 30_000,
    });
    const plan = (await api(`/v1/plans/${planId}`)).body as {
      shards: Array<{ id: string; announced: string; reachable: string }>;
    };
    const shown = await shownShards(page);
    expect(shown.map(({ id, announced, reachable }) => ({ id, announced, reachable }))).toEqual(
      plan.shards.map(({ id, announced, reachable }) => ({ id, announced, reachable })),
    );
    for (const shard of shown) {
      expect(shard.announced).toMatch(/^node-\d+\.internal\.invalid:\d+$/);
      expect(shard.reachable).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(shard.phase).toBe('incremental');
      expect(shard.retryDisabled).toBe(true);
    }
  });

  it('shows every shard’s offset move and charts its lag while writes run', async () => {
    const before = await shownShards(page);
    const writes = startClusterWrites(router);
    try {
      await page.waitForFunction(
        (offsets: Record<string, string>) =>
          [...document.querySelectorAll('table.shards tbody tr')].every(
            (row) =>
              row.querySelector('[data-field=offset]')?.textContent !==
              offsets[row.getAttribute('data-shard')!],
          ),
        { timeout: 60_000, polling: 250 },
        Object.fromEntries(before.map((shard) => [shard.id, shard.offset])),
      );
      // the chart draws one line per shard from the coordinator's history
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('#lag-bytes polyline')].filter(
            (line) => (line.getAttribute('points') ?? '').split(' ').length >= 2,
          ).length === 3,
        { timeout: 60_000, polling: 250 },
      );
      if (SCREENSHOTS) {
        // some history on the charts first (only when saving the README's pictures)
        await new Promise((resolve) => setTimeout(resolve, 20_000));
        await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-laptop.png'), fullPage: true });
        // the width alone switches the layout (a change of isMobile would reload the page)
        await page.setViewport({ width: 390, height: 844 });
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-phone.png') });
        await page.setViewport({ width: 1366, height: 900 });
      }
    } finally {
      await writes.stop();
    }
    const after = await shownShards(page);
    for (const shard of after) expect(shard.offset).not.toBe(before.find((b) => b.id === shard.id)!.offset);
  }, 120_000);

  it('a Retry from the page resumes a failed shard with +CONTINUE', async () => {
    const plan = (await api(`/v1/plans/${planId}`)).body as {
      shards: Array<{ id: string; announced: string; reachable: string; slots: Array<[number, number]> }>;
    };
    const failing = plan.shards[0];
    const master = masterOf(source, failing as never);
    let key = '';
    for (let i = 0; !key; i++) {
      const candidate = `dashboard:refused:${i}`;
      const slot = keySlot(candidate);
      if (failing.slots.some(([from, to]) => slot >= from && slot <= to)) key = candidate;
    }
    const admin = target.client();
    try {
      // The target's user may not LPUSH: the one shard that streams an LPUSH fails with TARGET_AUTH_FAILED.
      await admin.call('ACL', 'SETUSER', 'default', '-lpush');
      await router.client(key).lpush(key, 'refused-then-retried');
      await waitForPhase(page, failing.id, 'failed');
      const shown = (await shownShards(page)).find((shard) => shard.id === failing.id)!;
      expect(shown.lastError).toMatch(/TARGET_AUTH_FAILED/);
      expect(shown.lastError).toMatch(/grant it write commands/);
      expect(shown.retryDisabled).toBe(false);
      if (SCREENSHOTS) {
        const shards = await page.$('.table-wrap:has(table.shards)');
        await shards!.screenshot({ path: join(SCREENSHOTS, 'dashboard-failed-shard.png') });
      }
      for (const other of (await shownShards(page)).filter((shard) => shard.id !== failing.id)) {
        expect(other.phase).toBe('incremental');
      }

      await admin.call('ACL', 'SETUSER', 'default', '+lpush');
      const before = await syncCounters(master);
      const retry = `tr[data-shard="${failing.id}"] [data-action=retry]`;
      // Escape backs out of the confirmation: nothing is retried
      await page.click(retry);
      await page.waitForSelector('#confirm[open]', { visible: true });
      expect(await page.$eval('#confirm-title', (el) => el.textContent)).toBe(`Retry shard ${failing.id}?`);
      await page.keyboard.press('Escape');
      await page.waitForSelector('#confirm:not([open])');
      expect((await api(`/v1/plans/${planId}`)).body.shards[0].phase).toBe('failed');
      // by keyboard alone: Enter on the row's Retry, then Tab from Cancel to the confirmation and Enter
      await page.focus(retry);
      await page.keyboard.press('Enter');
      await page.waitForSelector('#confirm[open]', { visible: true });
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('confirm-ok');
      await page.keyboard.press('Enter');
      await waitForPhase(page, failing.id, 'incremental');
      expect(await page.$eval('.status', (el) => el.textContent)).toBe(`Shard ${failing.id} queued again.`);
      const after = await syncCounters(master);
      expect(after.full).toBe(before.full);
      expect(after.partialOk).toBeGreaterThanOrEqual(before.partialOk + 1);
      await expect
        .poll(() => admin.lrange(key, 0, -1), { timeout: 30_000 })
        .toEqual(['refused-then-retried']);
    } finally {
      await admin.call('ACL', 'SETUSER', 'default', '+@all').catch(() => undefined);
      admin.disconnect();
    }
  }, 180_000);
  it('starts a verification from the page and shows its result', async () => {
    await page.click('.actions [data-action=verify]');
    await page.waitForSelector('#confirm[open]', { visible: true });
    expect(await page.$eval('#confirm-title', (el) => el.textContent)).toBe('Start a verification?');
    await page.click('#confirm-ok');
    await page.waitForFunction(
      () =>
        /^Verification \S+: (clean|differences|failed) /.test(
          document.querySelector('[data-field=verification-status]')?.textContent ?? '',
        ),
      { timeout: 120_000, polling: 250 },
    );
    const shown = await page.$eval('[data-field=verification-status]', (el) => el.textContent ?? '');
    // writes stopped and every shard streams: the target holds exactly the source's keys
    expect(shown).toMatch(/: clean \(started /);
    const report = (await api(`/v1/plans/${planId}/verification`)).body as { id: string; status: string };
    expect(shown).toContain(`Verification ${report.id}: ${report.status}`);
  }, 180_000);
});
