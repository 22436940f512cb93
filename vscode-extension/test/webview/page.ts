/**
 * The chat page in headless Chromium for the webview tests: a local server
 * with its real HTML (CSP and nonce included) and bundle, and a harness that
 * plays the extension host (harness.ts).
 */

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chatHtml } from '../../src/chatHtml';
import { emptyChat } from '../../src/logic/chatState';
import type { HostMessage, WebviewMessage } from '../../src/messages';
import type { ChatEvent, Segment } from '../../src/protocol';
import { launchChromium } from '../support/chromium';

const root = process.cwd();
export const recording = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'stream.json'), 'utf8')) as {
  send: Segment[];
  events: ChatEvent[];
};

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf' };
const FILES: Record<string, string> = {
  '/dist/webview.js': join(root, 'dist', 'webview.js'),
  '/dist/chat.css': join(root, 'dist', 'chat.css'),
  '/dist/codicons/codicon.css': join(root, 'dist', 'codicons', 'codicon.css'),
  '/dist/codicons/codicon.ttf': join(root, 'dist', 'codicons', 'codicon.ttf'),
  '/harness/harness.js': join(root, 'out', 'webview', 'harness.js'),
  '/harness/theme.css': join(root, 'test', 'webview', 'theme.css'),
};

let server: Server;
let origin: string;
let browser: Browser;
const nonce = 'testNonce0123456789abcdefghijklmn';

function harnessHtml(): string {
  const html = chatHtml({
    cspSource: origin,
    nonce,
    scriptUri: `${origin}/dist/webview.js`,
    styleUri: `${origin}/dist/chat.css`,
    codiconsUri: `${origin}/dist/codicons/codicon.css`,
  });
  return html
    .replace('<link rel="stylesheet"', `<link rel="stylesheet" href="${origin}/harness/theme.css">\n<link rel="stylesheet"`)
    .replace('<script nonce=', `<script nonce="${nonce}" src="${origin}/harness/harness.js"></script>\n<script nonce=`);
}

before(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(harnessHtml());
      return;
    }
    const file = FILES[url.split('?')[0] ?? url];
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser.close();
  await new Promise((resolve) => server.close(resolve));
});

export async function openChat(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 420, height: 780 }, colorScheme: 'dark' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') {
      errors.push(m.text());
    }
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(origin);
  await page.waitForFunction(() => window.harness.posted.some((m) => m.type === 'ready'));
  await deliver(page, { type: 'reset', chatId: 'chat-1', state: { ...emptyChat(), model: 'openai/scripted' }, tabs: [{ id: 'chat-1', title: 'Chat 1' }] });
  return { page, errors };
}

export async function deliver(page: Page, message: HostMessage): Promise<void> {
  await page.evaluate((m) => {
    window.harness.deliver(m);
  }, message);
}

export async function event(page: Page, e: ChatEvent): Promise<void> {
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'event', event: e } });
}

export async function posted(page: Page): Promise<WebviewMessage[]> {
  return page.evaluate(() => window.harness.posted);
}

