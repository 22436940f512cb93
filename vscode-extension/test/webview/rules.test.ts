/**
 * "Always allow in this workspace" in the chat's approval row (headless
 * Chromium): it answers `allowAlways`, sits after "Allow for this Session"
 * (Enter still allows once, Escape still denies), and is not offered without
 * a workspace folder.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshotPath } from '../support/chromium';
import { deliver, event, openChat, posted } from './page';

test('the approval row offers "Always allow in this workspace", which answers allowAlways', { timeout: 60_000 }, async () => {
  const { page, errors } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'say hi' }] } });
  await event(page, { type: 'turnStart', turn: 1 });
  for (const n of [1, 2]) {
    await event(page, { type: 'toolCall', id: `c${n}`, name: 'run_command', arguments: { command: `echo ${n}` } });
    await deliver(page, {
      type: 'action',
      chatId: 'chat-1',
      action: { kind: 'approval', approval: { requestId: `a${n}`, toolCallId: `c${n}`, tool: 'run_command', command: `echo ${n}`, cwd: '/ws', reason: `Run \`echo ${n}\`` } },
    });
  }
  const first = page.locator('.tool[data-call-id="c1"] .approval');
  await first.waitFor();
  assert.deepEqual(await first.locator('.approval-buttons button').allTextContents(), ['Allow', 'Allow for this Session', 'Always allow in this workspace', 'Deny']);
  const always = first.getByRole('button', { name: 'Always allow in this workspace' });
  assert.match((await always.getAttribute('title')) ?? '', /later chats of this workspace/);
  await page.screenshot({ path: screenshotPath('webview-approval-always.png') });

  // the keyboard as before: the focus starts on Allow, Tab, Tab reaches the new button, Enter answers with it
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-approve') === 'allow');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Always allow in this workspace');
  await page.keyboard.press('Enter');
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'approve'), [{ type: 'approve', requestId: 'a1', decision: 'allowAlways' }]);
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'approvalDone', requestId: 'a1' } });
  await first.waitFor({ state: 'detached' });

  // a click answers the same way; Escape still denies
  const second = page.locator('.tool[data-call-id="c2"] .approval');
  await page.waitForFunction(() => document.activeElement?.closest('.approval')?.getAttribute('data-request') === 'a2');
  await page.keyboard.press('Escape');
  await second.getByRole('button', { name: 'Always allow in this workspace' }).click();
  assert.deepEqual(
    (await posted(page)).filter((m) => m.type === 'approve').slice(1),
    [
      { type: 'approve', requestId: 'a2', decision: 'deny' },
      { type: 'approve', requestId: 'a2', decision: 'allowAlways' },
    ],
  );
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'approvalDone', requestId: 'a2' } });
  await second.waitFor({ state: 'detached' });

  // without a workspace folder there is no workspace to keep a rule for
  await event(page, { type: 'toolCall', id: 'c3', name: 'run_command', arguments: { command: 'echo 3' } });
  await deliver(page, {
    type: 'action',
    chatId: 'chat-1',
    action: { kind: 'approval', approval: { requestId: 'a3', toolCallId: 'c3', tool: 'run_command', command: 'echo 3', cwd: '.', reason: 'Run `echo 3`', noWorkspace: true } },
  });
  const third = page.locator('.tool[data-call-id="c3"] .approval');
  await third.waitFor();
  assert.deepEqual(await third.locator('.approval-buttons button').allTextContents(), ['Allow', 'Allow for this Session', 'Deny']);
  assert.deepEqual(errors, []);
  await page.context().close();
});
