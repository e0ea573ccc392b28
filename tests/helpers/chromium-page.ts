/**
 * Debian's Chromium, headless, driven by playwright-core, and a watch on
 * what a page reports: console errors (CSP violations are reported there)
 * and uncaught exceptions.
 */

import { type Browser, type Page, chromium } from 'playwright-core';

/** Launches headless Chromium (`/usr/bin/chromium`); close it in `afterAll`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Records a page's console errors and warnings (a CSP violation is a
 * console error starting "Refused to …") and uncaught exceptions; not the
 * 404 of the browser's own `/favicon.ico` request.
 * @returns the list, which grows as the page reports; each entry is the
 *   message text and the URL it concerns, or `pageerror: ` and the
 *   exception's message.
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    // The browser's own /favicon.ico request is not the page's doing.
    if (new URL(m.location().url || 'about:blank').pathname === '/favicon.ico') return;
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

/**
 * Waits until `expression` (JavaScript, evaluated in the page) is true,
 * checking every 50 ms. (Playwright's `waitForFunction` polls with a
 * string-evaluating function, which a strict CSP rightly refuses.)
 * @throws Error after `timeoutMs` milliseconds.
 */
export async function until(page: Page, expression: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await page.evaluate(expression)) !== true) {
    if (Date.now() > end) throw new Error(`still not true after ${timeoutMs} ms: ${expression}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
