/**
 * The Context page (`Yoi: Show Context`) in headless Chromium, with its real
 * HTML (CSP and nonce) and bundle: it asks for the context when loaded, draws
 * the view the host computed (headline, meter, groups with their bars,
 * pruning), a sentence instead when there is none, and its refresh button asks again.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { contextHtml } from '../../src/contextHtml';
import { contextView } from '../../src/logic/context';
import type { ContextHostMessage, ContextWebviewMessage } from '../../src/messages';
import type { PodContextResult } from '../../src/protocol';
import { launchChromium, screenshotPath } from '../support/chromium';

const root = process.cwd();
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf' };
const FILES: Record<string, string> = {
  '/dist/context.js': join(root, 'dist', 'context.js'),
  '/dist/context.css': join(root, 'dist', 'context.css'),
  '/dist/codicons/codicon.css': join(root, 'dist', 'codicons', 'codicon.css'),
  '/dist/codicons/codicon.ttf': join(root, 'dist', 'codicons', 'codicon.ttf'),
  '/harness/harness.js': join(root, 'out', 'webview', 'harness.js'),
  '/harness/theme.css': join(root, 'test', 'webview', 'theme.css'),
};
const nonce = 'testNonce0123456789abcdefghijklmn';
let server: Server;
let origin: string;
let browser: Browser;

before(async () => {
  server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0] ?? '/';
    if (url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url === '/') {
      const html = contextHtml({ cspSource: origin, nonce, scriptUri: `${origin}/dist/context.js`, styleUri: `${origin}/dist/context.css`, codiconsUri: `${origin}/dist/codicons/codicon.css` })
        .replace('<link rel="stylesheet"', `<link rel="stylesheet" href="${origin}/harness/theme.css">\n<link rel="stylesheet"`)
        .replace('<script nonce=', `<script nonce="${nonce}" src="${origin}/harness/harness.js"></script>\n<script nonce=`);
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      return;
    }
    const file = FILES[url];
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

const part = (group: string, label: string, tokens: number, count = 1): PodContextResult['parts'][number] => ({ group, label, tokens, bytes: tokens * 4, count });

const RESULT: PodContextResult = {
  podId: 'pod-1',
  model: 'openai/scripted',
  contextTokens: 42_180,
  measured: true,
  tokensPerByte: 0.26,
  contextWindow: 128_000,
  compactAt: 96_000,
  parts: [
    part('system', 'instructions (template)', 1800),
    part('system', 'Working boundaries', 120),
    part('tools', 'read_file', 310),
    part('tools', 'MCP server time', 420, 2),
    part('history', 'user messages', 900, 3),
    part('history', 'tool results: read_file', 32_380, 4),
    part('history', 'assistant messages', 6250, 3),
  ],
  pruned: { results: 2, tokens: 12_400, wouldSave: 12_400 },
};

async function open(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 640, height: 720 }, colorScheme: 'dark' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') {
      errors.push(m.text());
    }
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(origin);
  return { page, errors };
}

async function deliver(page: Page, message: ContextHostMessage): Promise<void> {
  await page.evaluate((m) => {
    window.harness.deliver(m as never);
  }, message);
}

async function posted(page: Page): Promise<ContextWebviewMessage[]> {
  return page.evaluate(() => window.harness.posted as unknown as ContextWebviewMessage[]);
}

test('the page draws the total against the window, the groups largest first, and pruning; Refresh asks again', { timeout: 60_000 }, async () => {
  const { page, errors } = await open();
  await page.waitForFunction(() => (window.harness.posted as unknown as { type: string }[]).some((m) => m.type === 'ready'));
  assert.equal(await page.locator('#context-headline').innerText(), 'Loading…');
  await deliver(page, { type: 'context', view: contextView(RESULT), chat: 'Chat 1' });
  await page.locator('section[data-group="history"]').waitFor();
  assert.equal(await page.locator('#context-headline').innerText(), '42,180 / 128,000 tokens · 33% · compacts at 96,000');
  assert.equal(await page.locator('#context-model').innerText(), 'openai/scripted');
  assert.equal(await page.locator('#context-meter').isVisible(), true);
  assert.equal(await page.locator('.context-meter-fill').evaluate((el) => (el as HTMLElement).style.width), '33%');
  assert.deepEqual(await page.locator('.context-group-title').allInnerTexts(), ['System', 'Tools', 'History']);
  assert.deepEqual(await page.locator('section[data-group="tools"] .context-part-label').allInnerTexts(), ['MCP server time ×2', 'read_file']);
  const history = page.locator('section[data-group="history"] .context-part');
  assert.deepEqual(await history.locator('.context-part-label').allInnerTexts(), ['tool results: read_file ×4', 'assistant messages ×3', 'user messages ×3']);
  assert.equal(await history.first().locator('.context-part-size').innerText(), '32,380 tokens · 77%');
  assert.equal(await history.first().locator('.context-bar-fill').evaluate((el) => (el as HTMLElement).style.width), '77%');
  assert.equal(await page.locator('#context-pruned').innerText(), 'Pruning leaves out 2 old tool results (12,400 tokens) — the session log keeps them.');
  assert.equal(await page.locator('#context').getAttribute('aria-busy'), 'false');
  await page.screenshot({ path: screenshotPath('webview-context.png'), fullPage: true });

  await page.getByRole('button', { name: 'Refresh' }).click();
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'refresh'), [{ type: 'refresh' }]);
  await deliver(page, { type: 'loading' });
  await page.waitForFunction(() => document.getElementById('context')?.getAttribute('aria-busy') === 'true');

  // no context to show: a sentence, and nothing of the last one
  await deliver(page, { type: 'message', text: 'yoi could not tell what fills the context: the server is not running' });
  await page.waitForFunction(() => document.querySelectorAll('.context-group').length === 0);
  assert.equal(await page.locator('#context-headline').innerText(), 'yoi could not tell what fills the context: the server is not running');
  assert.equal(await page.locator('#context-meter').isVisible(), false);
  assert.equal(await page.locator('#context-pruned').isVisible(), false);
  assert.deepEqual(errors, []);
});
