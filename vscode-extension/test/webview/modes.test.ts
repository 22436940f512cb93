/**
 * The mode picker next to the chat input and "Execute plan" (headless
 * Chromium): the picker shows the chat's mode and asks the host for another
 * (shown once the host says so), is locked during a turn; a turn that ran in
 * plan mode ends with "Execute plan".
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshotPath } from '../support/chromium';
import { deliver, event, openChat, posted } from './page';

test('the mode picker shows the mode, asks the host for another, and is locked during a turn', { timeout: 60_000 }, async () => {
  const { page, errors } = await openChat();
  const picker = page.getByRole('radiogroup', { name: 'Mode' });
  const checked = (): Promise<string[]> => picker.locator('[aria-checked="true"]').allTextContents();
  assert.deepEqual(await picker.getByRole('radio').allTextContents(), ['Agent', 'Plan', 'Ask']);
  assert.deepEqual(await checked(), ['Agent'], 'a chat whose mode is not known yet is in agent mode');
  assert.match((await picker.getByRole('radio', { name: 'Plan' }).getAttribute('title')) ?? '', /no edits, no commands/);

  await picker.getByRole('radio', { name: 'Agent' }).click();
  await picker.getByRole('radio', { name: 'Plan' }).click();
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'setMode'), [{ type: 'setMode', mode: 'plan' }], 'only a change is asked for');
  assert.deepEqual(await checked(), ['Agent'], 'the chat is in agent mode until the host says otherwise');

  // the config event: the picker follows it
  await event(page, { type: 'config', model: 'openai/scripted', mode: 'ask', reasoningEffort: null, profile: null });
  await page.waitForFunction(() => document.querySelector('#mode [aria-checked="true"]')?.textContent === 'Ask');
  assert.equal(await picker.getAttribute('data-current'), 'ask');

  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'what is this?' }] } });
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLButtonElement>('#mode button')].every((b) => b.disabled));
  await event(page, { type: 'turnEnd', outcome: 'finished' });
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLButtonElement>('#mode button')].every((b) => !b.disabled));
  assert.equal(await page.locator('#plan-ready').isVisible(), false, 'a turn in ask mode offers no plan');
  assert.deepEqual(errors, []);
});

test('after a turn in plan mode, "Execute plan" shows; it asks the host, and goes with the next message', { timeout: 60_000 }, async () => {
  const { page, errors } = await openChat();
  await event(page, { type: 'config', model: 'openai/scripted', mode: 'plan', reasoningEffort: null, profile: null });
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'plan the change' }] } });
  await event(page, { type: 'turnStart', turn: 1 });
  await event(page, { type: 'textDelta', text: '1. Read app.py\n2. Make main return 2' });
  const bar = page.locator('#plan-ready');
  assert.equal(await bar.isVisible(), false, 'not while the plan is being written');
  await event(page, { type: 'turnEnd', outcome: 'finished' });
  const execute = page.getByRole('button', { name: 'Execute plan' });
  await execute.waitFor();
  assert.match((await bar.textContent()) ?? '', /The plan is ready\./);
  await page.screenshot({ path: screenshotPath('webview-execute-plan.png') });

  await execute.click();
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'executePlan'), [{ type: 'executePlan' }]);
  // the host switches to agent mode: the bar is gone for good
  await event(page, { type: 'config', model: 'openai/scripted', mode: 'agent', reasoningEffort: null, profile: null });
  await page.waitForFunction(() => document.querySelector('#mode [aria-checked="true"]')?.textContent === 'Agent');
  assert.equal(await bar.isVisible(), false);
  assert.deepEqual(errors, []);
});
