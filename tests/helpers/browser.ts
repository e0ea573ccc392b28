/**
 * The browser tests' browser: Debian's Chromium, headless, driven by
 * playwright-core (which downloads no browser of its own). One launch,
 * with the flags every browser test uses, so they cannot drift apart.
 */

import { type Browser, chromium } from 'playwright-core';

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Launches headless Chromium. `--no-sandbox`: the tests may run as root in
 * a container; no network activity of its own (updates, sync, QUIC).
 * Close it with `browser.close()` in `afterAll`.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
