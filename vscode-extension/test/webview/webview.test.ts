/**
 * The chat page in headless Chromium, with its real HTML (CSP and nonce
 * included) and bundle, driven by a harness that plays the extension host and
 * a recorded event stream.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyChat, reduce } from '../../src/logic/chatState';
import type { HistoryItem, Segment } from '../../src/protocol';
import type { Page } from 'playwright-core';
import { screenshotPath } from '../support/chromium';
import { deliver, event, openChat, posted, recording } from './page';

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
  await event(page, { type: 'toolCall', id: 'call_2', name: 'edit_file', arguments: { path: 'app.py', old_string: 'return 1', new_string: 'return 2' } });
  const row = page.locator('.tool[data-call-id="call_2"]');
  await row.locator('.codicon-loading.codicon-modifier-spin').first().waitFor();
  assert.equal(await row.getAttribute('class'), 'entry tool tool-running');
  assert.equal(await row.locator('.tool-target').textContent(), 'app.py');
  await event(page, { type: 'edit', id: 'call_2', uri: 'file:///ws/app.py', status: 'proposed' });
  await row.locator('.tool-summary', { hasText: 'waiting for your review' }).waitFor();
  // The editor's review reports its progress; the row offers Show / Keep All / Undo All.
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'review', callId: 'call_2', progress: { total: 2, kept: 1, undone: 0 } } });
  await row.locator('.tool-review', { hasText: '1 of 2 changes decided' }).waitFor();
  await row.getByRole('button', { name: 'Keep All' }).click();
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'review'), [{ type: 'review', callId: 'call_2', action: 'keepAll' }]);
  await row.locator('summary').click();
  // The arguments read as a change: the path a link, the strings a small diff.
  assert.equal(await row.locator('.arg-path button').textContent(), 'app.py');
  assert.deepEqual(await row.locator('.tool-diff span').allTextContents(), ['- return 1\n', '+ return 2\n']);
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'review', callId: 'call_2' } });
  await event(page, { type: 'edit', id: 'call_2', uri: 'file:///ws/app.py', status: 'applied' });
  await event(page, { type: 'toolResult', id: 'call_2', name: 'edit_file', ok: true, summary: 'Edited app.py (1 hunk)' });
  // (the applied edit shows a check of its own: wait for the row's result, not any check)
  await page.locator('.tool.tool-ok[data-call-id="call_2"]').waitFor();
  assert.equal(await row.getAttribute('class'), 'entry tool tool-ok');
  assert.equal(await row.locator('.tool-summary').textContent(), 'Edited app.py (1 hunk)');
  assert.equal(await row.locator('details').evaluate((el) => (el as HTMLDetailsElement).open), true, 'an expanded row stays expanded');
  assert.equal(await row.locator('.edit-applied .edit-status').textContent(), 'applied');
  assert.equal(await row.locator('.tool-review').count(), 0, 'the review ended');
  await page.getByRole('button', { name: 'Open app.py' }).last().click();
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'openFile').pop(), { type: 'openFile', path: 'app.py' });
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a command row: the command as code, the summary wrapping, the output\'s last lines and all on demand', async () => {
  const { page, errors } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'run the tests' }] } });
  await event(page, { type: 'turnStart', turn: 1 });
  const command = 'pytest -q tests/test_a_rather_long_module_name.py tests/test_another_long_module_name.py';
  await event(page, { type: 'toolCall', id: 'call_cmd', name: 'run_command', arguments: { command, cwd: 'src', timeout: 60 } });
  const output = ['exit 0', ...Array.from({ length: 40 }, (_, i) => `line ${i + 1} of the output`)].join('\n');
  await event(page, { type: 'toolResult', id: 'call_cmd', name: 'run_command', ok: true, summary: 'exit 0 · 41 lines of output, the last one says it all', content: output });
  const row = page.locator('.tool[data-call-id="call_cmd"]');
  const summary = row.locator('summary');
  const lineHeight = await summary.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight) || 18);
  const box = await summary.boundingBox();
  assert.ok(box !== null && box.height > lineHeight * 1.5, 'the summary wraps instead of being cut');
  await summary.click();
  assert.equal(await row.locator('.tool-command code').first().textContent(), command);
  assert.match((await row.locator('.tool-args').textContent()) ?? '', /timeout\s*60/);
  const text = row.locator('.tool-output-text');
  assert.match((await text.textContent()) ?? '', /… 29 earlier lines\nline 29 of the output[\s\S]*line 40 of the output$/);
  await page.screenshot({ path: screenshotPath('webview-tool-output.png') });
  await row.getByRole('button', { name: 'Show all 41 lines' }).click();
  assert.match((await text.textContent()) ?? '', /^exit 0\nline 1 of the output[\s\S]*line 40 of the output$/);
  await row.getByRole('button', { name: 'Show the last 12 lines' }).waitFor();
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('the working indicator shows from the send on, names the phase, and the turn ends with its tokens and cost', async () => {
  const { page, errors } = await openChat();
  const activity = page.getByRole('status');
  assert.equal(await page.locator('#activity').isVisible(), false);
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'hi' }] } });
  await page.locator('#activity', { hasText: 'Preparing…' }).waitFor();
  await event(page, { type: 'phase', phase: 'loadingModel' });
  await page.locator('#activity', { hasText: 'Loading the model client…' }).waitFor();
  await page.screenshot({ path: screenshotPath('webview-working.png') });
  await event(page, { type: 'turnStart', turn: 1 });
  await event(page, { type: 'phase', phase: 'runningTool', tool: 'grep' });
  await page.locator('#activity', { hasText: 'Running grep…' }).waitFor();
  await event(page, { type: 'textDelta', text: 'Here' });
  await page.locator('#activity', { hasText: 'Writing…' }).waitFor();
  await event(page, { type: 'usage', inputTokens: 2100, outputTokens: 40, cacheReadTokens: 0, cacheWriteTokens: 0, contextTokens: 2140, costUsd: 0.0042 });
  await event(page, { type: 'turnEnd', outcome: 'finished' });
  await page.locator('#activity').waitFor({ state: 'hidden' });
  assert.equal(await page.locator('.entry.usage').textContent(), 'Turn: 2.1k in · 40 out · $0.0042');
  assert.equal(await activity.count(), 0);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('approvals wait in their tool rows, queue visibly, and are answered by keyboard', async () => {
  const { page, errors } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'build it' }] } });
  await event(page, { type: 'turnStart', turn: 1 });
  for (const n of [1, 2]) {
    await event(page, { type: 'toolCall', id: `c${n}`, name: 'run_command', arguments: { command: `make step${n}` } });
    await deliver(page, {
      type: 'action',
      chatId: 'chat-1',
      action: { kind: 'approval', approval: { requestId: `a${n}`, toolCallId: `c${n}`, tool: 'run_command', command: `make step${n}`, cwd: '/ws', reason: `Run \`make step${n}\`` } },
    });
  }
  const first = page.locator('.tool[data-call-id="c1"] .approval');
  await first.waitFor();
  assert.equal(await first.locator('.tool-command code').textContent(), 'make step1');
  assert.equal(await first.locator('.approval-cwd code').textContent(), '/ws');
  assert.equal(await first.locator('.approval-count').textContent(), '1 of 2 waiting');
  assert.equal(await page.locator('.tool[data-call-id="c2"] .approval-count').textContent(), '2 of 2 waiting');
  assert.match((await page.locator('#approval-queue').textContent()) ?? '', /2 approvals are waiting/);
  assert.equal(await page.locator('.tool[data-call-id="c1"] .tool-summary').textContent(), 'waiting for your approval');
  // The oldest one's Allow has the focus: Enter allows it.
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-approve') === 'allow');
  await page.screenshot({ path: screenshotPath('webview-approvals.png') });
  await page.keyboard.press('Enter');
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'approve'), [{ type: 'approve', requestId: 'a1', decision: 'allow' }]);
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'approvalDone', requestId: 'a1' } });
  await first.waitFor({ state: 'detached' });
  // The next one takes the focus; Tab reaches "Allow for this Session", Escape denies.
  await page.waitForFunction(() => document.activeElement?.closest('.approval')?.getAttribute('data-request') === 'a2');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Allow for this Session');
  await page.keyboard.press('Escape');
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'approve').pop(), { type: 'approve', requestId: 'a2', decision: 'deny' });
  // A withdrawn request (the turn was interrupted) disappears.
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'approvalDone', requestId: 'a2' } });
  await page.locator('.approval').first().waitFor({ state: 'detached' });
  assert.equal(await page.locator('#approval-queue').isVisible(), false);
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
  // Punctuation typed right after a pick goes against it: no stray space before the comma.
  await input.pressSequentially('see @READ');
  await page.getByRole('option').first().waitFor();
  await input.press('Enter');
  await input.pressSequentially(', then');
  assert.equal(await input.inputValue(), 'see @README.md, then');
  // Picked before existing text, the pick does not add a second space.
  await input.press('Home');
  await input.pressSequentially('@app');
  await page.getByRole('option').first().waitFor();
  await input.press('Enter');
  assert.equal(await input.inputValue(), '@app.py see @README.md, then');
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

/** Paste files into the chat box as the clipboard would (base64 bytes, a type, a name). */
async function pasteFiles(page: Page, files: { b64: string; type: string; name: string }[]): Promise<void> {
  await page.locator('#input').evaluate((el, list) => {
    const data = new DataTransfer();
    for (const f of list) {
      data.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    }
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, files);
}

// a 1×1 PNG
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

test('a pasted image becomes a chip with a thumbnail and is sent as an image segment; other files are refused', async () => {
  const { page, errors } = await openChat();
  await pasteFiles(page, [
    { b64: PNG_B64, type: 'image/png', name: 'image.png' },
    { b64: 'Qk0=', type: 'image/bmp', name: 'old.bmp' },
  ]);
  const chip = page.locator('#attachments .attachment');
  await chip.waitFor();
  assert.equal(await chip.locator('.attachment-name').textContent(), 'pasted image 1.png');
  assert.equal(await chip.locator('img.attachment-thumb').getAttribute('src'), `data:image/png;base64,${PNG_B64}`);
  assert.equal(await page.getByRole('alert').textContent(), 'old.bmp is not a PNG, JPEG, GIF or WebP image');
  await page.locator('#input').fill('what is this?');
  await page.locator('#input').press('Enter');
  const sent = (await posted(page)).filter((m) => m.type === 'send');
  assert.deepEqual(sent, [
    { type: 'send', text: 'what is this?', references: [], images: [{ name: 'pasted image 1.png', data: `data:image/png;base64,${PNG_B64}`, size: 69 }] },
  ]);
  assert.equal(await page.locator('#attachments').isHidden(), true, 'the chips go with the message');
  // The sent message shows the image as a chip with its thumbnail.
  const segments: Segment[] = [{ kind: 'text', text: 'what is this?' }, { kind: 'image', name: 'pasted image 1.png', data: `data:image/png;base64,${PNG_B64}` }];
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments } });
  const shown = page.locator('.entry.user .chip-image');
  await shown.waitFor();
  assert.equal(await shown.textContent(), 'pasted image 1.png');
  assert.equal(await shown.locator('img.chip-thumb').count(), 1);
  assert.deepEqual(errors, [], 'no console errors and no CSP violations');
  await page.context().close();
});

/** Items `from`… of a long conversation: each turn a question, a read and its result, an answer. */
function historyItems(from: number, to: number): HistoryItem[] {
  const all: HistoryItem[] = [];
  for (let i = 0; all.length < to; i += 1) {
    all.push(
      { kind: 'message', role: 'user', text: `question ${i}` },
      { kind: 'toolCall', id: `call_${i}`, name: 'read_file', arguments: { path: 'app.py' } },
      { kind: 'toolResult', id: `call_${i}`, name: 'read_file', ok: true, summary: `Read app.py (${i})` },
      { kind: 'message', role: 'assistant', text: `answer ${i}\n\nwith a second paragraph` },
    );
  }
  return all.slice(from, to);
}

test('scrolled to the top, a restored chat loads the page before it and the view stays where it was', async () => {
  const { page, errors } = await openChat();
  const state = reduce({ ...emptyChat(), model: 'openai/scripted' }, { kind: 'history', items: historyItems(40, 80), start: 40 });
  await deliver(page, { type: 'reset', chatId: 'chat-1', state, tabs: [{ id: 'chat-1', title: 'Chat 1' }] });
  const transcript = page.locator('#transcript');
  await page.locator('.entry.assistant', { hasText: 'answer 19' }).waitFor();
  assert.ok(await transcript.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40), 'it opens at the latest message');
  assert.equal((await posted(page)).filter((m) => m.type === 'loadOlder').length, 0, 'nothing is loaded before the user scrolls up');

  // Scrolling to the top asks once, and says so.
  await transcript.evaluate((el) => el.scrollTo({ top: 0 }));
  await page.locator('.older', { hasText: 'Loading earlier messages…' }).waitFor();
  await transcript.evaluate((el) => el.scrollTo({ top: 1 }));
  assert.equal((await posted(page)).filter((m) => m.type === 'loadOlder').length, 1);
  const anchor = page.locator('.entry.user', { hasText: 'question 10' });
  const before = await anchor.evaluate((el) => el.getBoundingClientRect().top);

  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'older', items: historyItems(0, 40), start: 0 } });
  await page.locator('.entry.user', { hasText: 'question 0' }).waitFor({ state: 'attached' });
  const after = await anchor.evaluate((el) => el.getBoundingClientRect().top);
  assert.ok(Math.abs(after - before) <= 1, `the message in view stayed in place (${before} → ${after})`);
  assert.ok(await transcript.evaluate((el) => el.scrollTop > 1000), 'the earlier messages are above, out of view');
  assert.equal(await page.locator('.older').count(), 0, 'the whole history is loaded');
  // the page's first result belonged to a call on the older page: the row is whole
  assert.equal(await page.locator('.tool.tool-ok').count(), 20);
  await transcript.evaluate((el) => el.scrollTo({ top: 0 }));
  await page.waitForTimeout(100);
  assert.equal((await posted(page)).filter((m) => m.type === 'loadOlder').length, 1, 'nothing more to ask for');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a running command shows its output live; its Stop button survives the updates and asks to stop that call', async () => {
  const { page, errors } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'build it' }] } });
  await event(page, { type: 'turnStart', turn: 1 });
  await event(page, { type: 'toolCall', id: 'call_make', name: 'run_command', arguments: { command: 'make' } });
  await event(page, { type: 'toolOutput', id: 'call_make', text: Array.from({ length: 30 }, (_, i) => `step ${i + 1}`).join('\n') + '\n' });
  const row = page.locator('.tool[data-call-id="call_make"]');
  const stop = row.getByRole('button', { name: 'Stop this command' });
  await stop.waitFor();
  await row.locator('.tool-summary', { hasText: /^step 30$/ }).waitFor();
  const button = await stop.elementHandle();
  for (let i = 31; i <= 40; i++) {
    await event(page, { type: 'toolOutput', id: 'call_make', text: `step ${i}\n` });
  }
  await row.locator('.tool-summary', { hasText: /^step 40$/ }).waitFor();
  assert.equal(await button.evaluate((el) => el.isConnected), true, 'the same button, not a redrawn one');
  await row.locator('summary').click();
  const live = row.locator('.tool-live .tool-output-text');
  assert.match((await live.textContent()) ?? '', /^step 29\n[\s\S]*step 40$/);
  await page.screenshot({ path: screenshotPath('webview-live-output.png') });
  await stop.click();
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'stopTool'), [{ type: 'stopTool', callId: 'call_make' }]);
  await event(page, { type: 'toolResult', id: 'call_make', name: 'run_command', ok: true, summary: 'stopped by the user — step 1', content: 'step 1\nstep 2\n[stopped by the user: the command and its children were killed]' });
  await row.locator('.tool-stop').waitFor({ state: 'detached' });
  assert.equal(await row.locator('.tool-live').count(), 0);
  assert.match((await row.locator('.tool-output-text').textContent()) ?? '', /stopped by the user/);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test("a command's approval shows the server's note about files it will not see", async () => {
  const { page, errors } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'run it' }] } });
  await event(page, { type: 'turnStart', turn: 1 });
  await event(page, { type: 'toolCall', id: 'c_note', name: 'run_command', arguments: { command: 'python3 greet.py' } });
  const reason = 'Run `python3 greet.py` in the workspace root (note: greet.py has unsaved changes in the editor; the command will see the saved version)';
  await deliver(page, {
    type: 'action',
    chatId: 'chat-1',
    action: { kind: 'approval', approval: { requestId: 'a_note', toolCallId: 'c_note', tool: 'run_command', command: 'python3 greet.py', cwd: '/ws', reason } },
  });
  const note = page.locator('.tool[data-call-id="c_note"] .approval .approval-note');
  await note.waitFor();
  assert.equal(await note.textContent(), 'note: greet.py has unsaved changes in the editor; the command will see the saved version');
  assert.deepEqual(errors, []);
  await page.context().close();
});
