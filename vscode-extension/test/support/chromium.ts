/** Debian's headless Chromium through playwright-core (no browser download). */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env['YOI_CHROMIUM'] ?? '/usr/bin/chromium';

/** playwright-core gives every launch a fresh temporary profile (--user-data-dir). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where screenshots go: out/screenshots/ (a build artifact). */
export function screenshotPath(name: string): string {
  const dir = join(process.cwd(), 'out', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
