/**
 * Sub-agents in the chat page (headless Chromium): a row under the
 * spawn_agent call with its status, task and scope, its own transcript on
 * expand (kept open while it streams), its approvals, its Stop button, its
 * answer once it ends; restored rows say what they cannot show.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { emptyChat, reduce } from '../../src/logic/chatState';
import type { ChatEvent, HistoryItem } from '../../src/protocol';
import { screenshotPath } from '../support/chromium';
import { deliver, event, openChat, posted } from './page';

const CHILD = 'pod-child';
const started: ChatEvent = { type: 'subAgent', podId: CHILD, name: 'research-agent', status: 'running', callId: 'call_spawn', sessionId: 's-child', task: 'Find where the cache is invalidated', scope: 'read-only' };

async function child(page: Page, e: ChatEvent): Promise<void> {
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'child', podId: CHILD, parentPodId: 'pod-parent', event: e } });
}

test('a sub-agent is a row under its call: live status, its own transcript on expand, Stop, approvals, then its answer', { timeout: 60_000 }, async () => {
  const { page, errors } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'ask a sub-agent' }] } });
  await event(page, { type: 'turnStart', turn: 1 });
  await event(page, { type: 'toolCall', id: 'call_spawn', name: 'spawn_agent', arguments: { task: 'Find where the cache is invalidated', name: 'research-agent' } });
  await event(page, started);
  await child(page, { type: 'turnStart', turn: 1 });
  await child(page, { type: 'textDelta', text: 'Looking at **cache.py**' });

  const row = page.locator('.entry.agent');
  await row.waitFor();
  assert.equal(await page.locator('.tool[data-call-id="call_spawn"] + .entry.agent').count(), 1, 'right under its call');
  assert.equal(await row.locator('.agent-name').textContent(), 'research-agent');
  assert.equal(await row.locator('.agent-scope').textContent(), 'read-only');
  assert.equal(await row.locator('.agent-status').textContent(), 'running');
  assert.equal(await row.locator('.agent-task').textContent(), 'Find where the cache is invalidated');
  assert.equal(await row.locator('.agent-status-icon .codicon-loading.codicon-modifier-spin').count(), 1);
  assert.equal(await page.locator('#transcript > .entry.assistant').count(), 0, "the sub-agent's text is not the parent's");

  // expanded, its transcript; it stays expanded while it streams
  await row.locator('.agent-details > summary').click();
  const inner = row.locator('.agent-transcript');
  await inner.locator('.entry.assistant strong', { hasText: 'cache.py' }).waitFor();
  await child(page, { type: 'textDelta', text: ' now.' });
  await child(page, { type: 'toolCall', id: 'c_ls', name: 'run_command', arguments: { command: 'ls' } });
  await child(page, { type: 'toolOutput', id: 'c_ls', text: 'cache.py\n' });
  await inner.locator('.tool[data-call-id="c_ls"]').waitFor();
  assert.equal(await row.locator('.agent-details').getAttribute('open'), '');
  assert.match((await inner.locator('.entry.assistant').first().textContent()) ?? '', /Looking at cache\.py now\./);
  assert.equal(await inner.locator('.entry.assistant .who').first().textContent(), 'research-agent', 'its messages are its own');
  await page.screenshot({ path: screenshotPath('webview-sub-agent-running.png') });

  // its command's Stop stops that command of the sub-agent; the row's Stop stops the sub-agent
  // (the same button while the sub-agent streams: a redrawn one would swallow clicks)
  const stopAgent = row.getByRole('button', { name: 'Stop research-agent' });
  const button = await stopAgent.elementHandle();
  for (let i = 1; i <= 5; i++) {
    await child(page, { type: 'toolOutput', id: 'c_ls', text: `line ${i}\n` });
  }
  await inner.locator('.tool-summary', { hasText: /^line 5$/ }).waitFor();
  assert.equal(await button.evaluate((el) => el.isConnected), true, 'the same Stop button');
  await inner.getByRole('button', { name: 'Stop this command' }).click();
  await stopAgent.click();
  const sent = (await posted(page)).filter((m) => m.type === 'stopTool' || m.type === 'stopAgent');
  assert.deepEqual(sent, [
    { type: 'stopTool', callId: 'c_ls', agentPodId: CHILD },
    { type: 'stopAgent', podId: CHILD },
  ]);

  // its approval shows in its row, naming it, even collapsed
  await row.locator('.agent-details > summary').click();
  await deliver(page, {
    type: 'action',
    chatId: 'chat-1',
    action: { kind: 'approval', approval: { requestId: 'a1', toolCallId: 'c_ls', tool: 'run_command', command: 'pytest -q', cwd: '/ws', reason: 'research-agent wants to run `pytest -q`', agentPodId: CHILD, agent: 'research-agent' } },
  });
  const box = row.locator('.agent-after .approval');
  await box.waitFor();
  assert.equal(await box.locator('.approval-title span').first().textContent(), 'research-agent wants to run this command');
  assert.equal(await row.locator('.agent-status').textContent(), 'waiting for your approval');
  await box.getByRole('button', { name: 'Allow', exact: true }).click();
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'approve'), [{ type: 'approve', requestId: 'a1', decision: 'allow' }]);
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'approvalDone', requestId: 'a1' } });
  await box.waitFor({ state: 'detached' });

  // it ends: its answer shows below the row, the Stop button goes
  await child(page, { type: 'toolResult', id: 'c_ls', name: 'run_command', ok: true, summary: 'exit 0' });
  await child(page, { type: 'textDelta', text: 'It is `invalidate()` in cache.py.' });
  await child(page, { type: 'turnEnd', outcome: 'finished' });
  await event(page, { ...started, status: 'finished', answer: 'It is `invalidate()` in cache.py.' });
  await row.locator('.agent-answer code', { hasText: 'invalidate()' }).waitFor();
  assert.equal(await row.locator('.agent-status').textContent(), 'finished');
  assert.equal(await row.locator('.agent-stop').count(), 0);
  assert.equal(await row.getAttribute('class'), 'entry agent agent-finished');
  await event(page, { type: 'toolResult', id: 'call_spawn', name: 'spawn_agent', ok: true, summary: 'research-agent finished' });
  await event(page, { type: 'textDelta', text: 'The sub-agent found it.' });
  await page.locator('#transcript > .entry.agent + .entry.assistant', { hasText: 'The sub-agent found it.' }).waitFor();
  await page.screenshot({ path: screenshotPath('webview-sub-agent.png') });
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a restored sub-agent is a collapsed row with its answer; expanded, it says its steps are not shown', { timeout: 60_000 }, async () => {
  const { page, errors } = await openChat();
  const items: HistoryItem[] = [
    { kind: 'message', role: 'user', text: 'ask' },
    { kind: 'toolCall', id: 'call_spawn', name: 'spawn_agent', arguments: { task: 'Find it' } },
    { kind: 'toolResult', id: 'call_spawn', name: 'spawn_agent', ok: false, summary: 'research-agent failed' },
  ];
  const state = reduce(emptyChat(), {
    kind: 'history',
    items,
    subAgents: [{ name: 'research-agent', status: 'interrupted', sessionId: 's-child', callId: 'call_spawn', task: 'Find it', scope: 'writes docs', error: 'the server stopped' }],
  });
  await deliver(page, { type: 'reset', chatId: 'chat-1', state, tabs: [{ id: 'chat-1', title: 'Chat 1' }] });
  const row = page.locator('.tool[data-call-id="call_spawn"] + .entry.agent');
  await row.waitFor();
  assert.equal(await row.locator('.agent-status').textContent(), 'interrupted');
  assert.equal(await row.locator('.agent-error').textContent(), 'the server stopped');
  assert.equal(await row.locator('.agent-details').getAttribute('open'), null);
  assert.equal(await row.locator('.agent-stop').count(), 0);
  await row.locator('.agent-details > summary').click();
  assert.match((await row.locator('.agent-note').textContent()) ?? '', /^Restored from the session: only the task and the final answer are shown here/);
  assert.deepEqual(errors, []);
  await page.context().close();
});
