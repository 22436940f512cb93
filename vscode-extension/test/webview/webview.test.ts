/**
 * The chat page in headless Chromium, with its real HTML (CSP and nonce
 * included) and bundle, driven by a harness that plays the extension host and
 * a recorded event stream.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chatHtml } from '../../src/chatHtml';
import { emptyChat } from '../../src/logic/chatState';
import type { HostMessage, WebviewMessage } from '../../src/messages';
import type { ChatEvent, Segment } from '../../src/protocol';
import { launchChromium, screenshotPath } from '../support/chromium';

const root = process.cwd();
const recording = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'stream.json'), 'utf8')) as {
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

async function openChat(): Promise<{ page: Page; errors: string[] }> {
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

async function deliver(page: Page, message: HostMessage): Promise<void> {
  await page.evaluate((m) => {
    window.harness.deliver(m);
  }, message);
}

async function event(page: Page, e: ChatEvent): Promise<void> {
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'event', event: e } });
}

async function posted(page: Page): Promise<WebviewMessage[]> {
  return page.evaluate(() => window.harness.posted);
}

test('streamed text renders as markdown while it arrives', async () => {
  const { page, errors } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: recording.send } });
  const stream = recording.events;
  for (const e of stream.slice(0, 11)) {
    await event(page, e);
  }
  const reply = page.locator('.entry.assistant .markdown');
  await reply.locator('strong', { hasText: '1' }).waitFor();
  assert.equal(await reply.getAttribute('class'), 'markdown streaming');
  for (const e of stream.slice(11)) {
    await event(page, e);
  }
  await page.locator('pre code.language-python').waitFor();
  assert.match((await page.locator('pre code.language-python').textContent()) ?? '', /return 2/);
  assert.equal(await reply.getAttribute('class'), 'markdown');
  assert.equal(await page.locator('.entry.user .chip').textContent(), 'app.py');
  assert.match((await page.locator('.notice-warn').textContent()) ?? '', /cut at 200 lines/);
  assert.match((await page.locator('#status').textContent()) ?? '', /openai\/scripted {2}· {2}context 2\.5k {2}· {2}4\.4k in · 100 out/);
  await page.screenshot({ path: screenshotPath('webview-chat.png') });
  assert.deepEqual(errors, [], 'no console errors and no CSP violations');
  await page.context().close();
});

test('tool rows show running, the edit review, then the result', async () => {
  const { page, errors } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: recording.send } });
  await event(page, { type: 'turnStart', turn: 1 });
  await event(page, { type: 'toolCall', id: 'call_2', name: 'edit_file', arguments: { path: 'app.py' } });
  const row = page.locator('details.tool[data-call-id="call_2"]');
  await row.locator('.codicon-loading.codicon-modifier-spin').waitFor();
  assert.equal(await row.getAttribute('class'), 'entry tool tool-running');
  assert.equal(await row.locator('.tool-target').textContent(), 'app.py');
  await event(page, { type: 'edit', id: 'call_2', uri: 'file:///ws/app.py', status: 'proposed' });
  await row.locator('.tool-summary', { hasText: 'Refactor Preview' }).waitFor();
  await row.locator('summary').click();
  await event(page, { type: 'edit', id: 'call_2', uri: 'file:///ws/app.py', status: 'applied' });
  await event(page, { type: 'toolResult', id: 'call_2', name: 'edit_file', ok: true, summary: 'Edited app.py (1 hunk)' });
  // (the applied edit shows a check of its own: wait for the row's result, not any check)
  await page.locator('details.tool.tool-ok[data-call-id="call_2"]').waitFor();
  assert.equal(await row.getAttribute('class'), 'entry tool tool-ok');
  assert.equal(await row.locator('.tool-summary').textContent(), 'Edited app.py (1 hunk)');
  assert.equal(await row.evaluate((el) => (el as HTMLDetailsElement).open), true, 'an expanded row stays expanded');
  assert.equal(await row.locator('.edit-applied .edit-status').textContent(), 'applied');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('Stop asks the host to interrupt the running turn', async () => {
  const { page } = await openChat();
  assert.equal(await page.locator('#stop').isVisible(), false);
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'run it' }] } });
  await event(page, { type: 'turnStart', turn: 1 });
  await page.locator('#stop').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#send').isVisible(), false);
  await page.getByRole('button', { name: 'Stop' }).click();
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'stop'), [{ type: 'stop' }]);
  await event(page, { type: 'turnEnd', outcome: 'interrupted' });
  await page.locator('#send').waitFor({ state: 'visible' });
  assert.equal(await page.locator('.notice-info').last().textContent(), 'Stopped.');
  await page.context().close();
});

test('the @ picker lists open files first, filters as you type, and inserts the pick', async () => {
  const { page, errors } = await openChat();
  const input = page.getByRole('textbox', { name: 'Message yoi' });
  await input.click();
  await input.pressSequentially('explain @');
  const options = page.getByRole('option');
  await options.first().waitFor();
  assert.equal(await options.count(), 6);
  assert.equal(await options.first().locator('.picker-label').textContent(), 'app.py');
  assert.equal(await options.first().locator('.picker-badge').textContent(), 'open');
  await input.pressSequentially('api');
  await page.waitForFunction(() => document.querySelectorAll('[role="option"]').length === 1);
  assert.equal(await options.first().locator('.picker-label').textContent(), 'src/api.py');
  await input.press('Backspace');
  await input.press('Backspace');
  await page.waitForFunction(() => document.querySelectorAll('[role="option"]').length === 4);
  await input.press('ArrowDown');
  assert.equal(await page.locator('[role="option"][aria-selected="true"] .picker-label').textContent(), 'src/api.py');
  await page.screenshot({ path: screenshotPath('webview-picker.png') });
  await input.press('Enter');
  assert.equal(await input.inputValue(), 'explain @src/api.py ');
  assert.equal(await page.getByRole('listbox').isVisible(), false);
  await input.pressSequentially('please');
  await input.press('Enter');
  const send = (await posted(page)).find((m) => m.type === 'send');
  assert.deepEqual(send, { type: 'send', text: 'explain @src/api.py please', references: [{ kind: 'file', value: 'src/api.py' }] });
  assert.equal(await input.inputValue(), '');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a file chip in the transcript opens the file', async () => {
  const { page } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: recording.send } });
  await page.getByRole('button', { name: 'Open app.py' }).click();
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'openFile'), [{ type: 'openFile', path: 'app.py' }]);
  await page.context().close();
});

test('several chats show as tabs; clicking one asks to switch', async () => {
  const { page } = await openChat();
  await deliver(page, { type: 'tabs', tabs: [{ id: 'chat-1', title: 'Chat 1' }, { id: 'chat-2', title: 'fix the build' }], active: 'chat-1' });
  await page.getByRole('tab', { name: 'fix the build' }).click();
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'switchChat'), [{ type: 'switchChat', chatId: 'chat-2' }]);
  await page.context().close();
});
