/**
 * A turn a session budget stopped (headless Chromium): the chat shows the
 * server's message with "Raise Session Budget…", which asks the host; once
 * the host says the budget was raised, the button is gone and the chat says
 * the user can send again. The day's budget has no button.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshotPath } from '../support/chromium';
import { deliver, event, openChat, posted } from './page';

const SESSION =
  'Budget reached: this session has spent $3.2000 and the next request would cost about $3.5120, over [budget] per_session_usd = 5. ' +
  'The turn stopped before that request; raise it in the editor (Raise Session Budget) or in [budget] of the user manifest.';
const DAY =
  'Budget reached: today has spent $3.2000 and the next request would cost about $3.4000, over [budget] per_day_usd = 5. ' +
  'The turn stopped before that request; raise [budget] per_day_usd in the user manifest, or wait for tomorrow (UTC).';

test('"Raise Session Budget…" under the message of a turn a session budget stopped; the host raises it, the chat says to send again', { timeout: 60_000 }, async () => {
  const { page, errors } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'second' }] } });
  await event(page, { type: 'turnStart', turn: 2 });
  await event(page, { type: 'alert', level: 'error', source: 'budget', message: SESSION });
  await event(page, { type: 'turnEnd', outcome: 'budgetExceeded', error: SESSION });
  const notice = page.locator('.entry.notice', { hasText: 'Budget reached: this session has spent $3.2000' });
  await notice.waitFor();
  assert.equal(await notice.count(), 1, 'said once');
  assert.equal(await notice.getAttribute('role'), 'alert');
  const raise = notice.getByRole('button', { name: 'Raise Session Budget…' });
  await raise.waitFor();
  await page.screenshot({ path: screenshotPath('webview-budget.png') });
  await raise.click();
  const key = Number(await notice.getAttribute('data-key'));
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'raiseBudget'), [{ type: 'raiseBudget', key }]);

  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'budgetRaised', key, text: 'Session budget raised to $20.00 (spent so far: $3.20). Send your message again to go on.', sessionCostUsd: 3.2 } });
  await page.locator('.entry.notice', { hasText: 'Send your message again to go on.' }).waitFor();
  assert.equal(await raise.count(), 0, 'the button is gone once raised');
  assert.equal(await page.locator('#send').isVisible(), true, 'the user can send again');
  assert.deepEqual(errors, []);
});

test('a turn the day budget stopped says so, with no button (the day is raised in the user manifest)', { timeout: 60_000 }, async () => {
  const { page, errors } = await openChat();
  await deliver(page, { type: 'action', chatId: 'chat-1', action: { kind: 'send', segments: [{ kind: 'text', text: 'hello' }] } });
  await event(page, { type: 'turnEnd', outcome: 'budgetExceeded', error: DAY });
  const notice = page.locator('.entry.notice', { hasText: 'today has spent $3.2000' });
  await notice.waitFor();
  assert.equal(await notice.getByRole('button').count(), 0);
  assert.deepEqual(errors, []);
});
