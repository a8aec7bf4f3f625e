import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's `chromium` package (what .ci/run installs), or CHROMIUM_PATH. puppeteer-core never downloads one. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((path): path is string => typeof path === 'string' && existsSync(path));
  if (!found) {
    throw new Error(
      'the dashboard test needs Chromium: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH',
    );
  }
  return found;
}

/** Headless Chromium with a throwaway profile. As root (CI, containers) it cannot use its sandbox. */
export function launchChromium(): Promise<Browser> {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      ...(asRoot ? ['--no-sandbox'] : []),
      '--disable-dev-shm-usage',
      '--disable-gpu',
      '--no-first-run',
      '--no-default-browser-check',
    ],
    protocolTimeout: 120_000,
  });
}
