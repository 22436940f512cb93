/**
 * End to end in a real VS Code (code-server), the real yoi server and the
 * scripted model: the parent's spawn_agent starts a foreground sub-agent,
 * which shows as a row under that call (running, its own transcript on
 * expand), ends with its answer in the row, and the parent goes on with it;
 * a second sub-agent is stopped from its row's Stop button, and the parent
 * goes on without it; a third one's command approval shows in its row, naming
 * it, and once allowed its command runs; after a window reload the rows come
 * back from the parent's history with their statuses and answers.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chatFrame, failWith, loadScript, mark, page, say, shootSidebar, startAll, stopAll, toldModel } from './harness';

const ANSWER = 'The answer is 42, found in the cache module.';

before(async () => {
  await startAll([
    { match: 'E2E-PARENT', tool_calls: [{ name: 'spawn_agent', arguments: { task: 'E2E-CHILD find the answer', name: 'research-agent' }, id: 'call_spawn' }] },
    // streamed slowly, so the row is seen running with its transcript growing
    { match: 'E2E-CHILD', text: ANSWER, chunk_size: 2, chunk_delay_ms: 150 },
    { match: 'E2E-PARENT', text: 'The sub-agent says 42.' },
  ]);
});

after(async () => {
  await stopAll();
});

test('a foreground sub-agent shows as a row under its call, with its transcript and its answer; the parent goes on', { timeout: 300_000 }, async () => {
  try {
    await page.locator('.activitybar a.action-label[aria-label="yoi"]').click();
    const chat = chatFrame();
    await chat.getByRole('textbox', { name: 'Message yoi' }).waitFor({ timeout: 60_000 });
    await say('E2E-PARENT ask a sub-agent');

    const row = chat.locator('.tool[data-call-id="call_spawn"] + .entry.agent');
    await row.waitFor({ timeout: 60_000 });
    assert.equal(await row.locator('.agent-name').textContent(), 'research-agent');
    assert.equal(await row.locator('.agent-task').textContent(), 'E2E-CHILD find the answer');
    mark('the sub-agent row appeared');

    // while it runs: a spinner, Stop, and its own transcript on expand
    await row.locator('.agent-status', { hasText: /^running$/ }).waitFor({ timeout: 60_000 });
    assert.equal(await row.getByRole('button', { name: 'Stop research-agent' }).count(), 1);
    await row.locator('.agent-details > summary').click();
    await row.locator('.agent-transcript .entry.assistant', { hasText: 'The answer' }).waitFor({ timeout: 60_000 });
    await shootSidebar('e2e-sub-agent-running.png');
    mark('its transcript streams in the row');

    // it ends: its answer in the row; the parent continues with it
    await row.locator('.agent-answer', { hasText: ANSWER }).waitFor({ timeout: 60_000 });
    assert.equal(await row.locator('.agent-status').textContent(), 'finished');
    assert.equal(await row.locator('.agent-stop').count(), 0);
    assert.match(await toldModel('call_spawn', /The answer is 42/), /research-agent/);
    await chat.locator('#transcript > .entry.assistant', { hasText: 'The sub-agent says 42.' }).waitFor({ timeout: 60_000 });
    assert.equal(await chat.locator('#transcript > .entry.assistant', { hasText: ANSWER }).count(), 0, "the sub-agent's text is not the parent's");
    assert.equal(await chat.locator('#stop').isHidden(), true, "the parent's turn ended");
    await shootSidebar('e2e-sub-agent-answer.png');
    mark('the answer is in the row and the parent went on');
  } catch (error) {
    await failWith('the sub-agent run failed', error);
  }
});

test("a sub-agent's Stop button stops it; the parent goes on", { timeout: 300_000 }, async () => {
  try {
    await loadScript([
      { match: 'E2E-PARENT', tool_calls: [{ name: 'spawn_agent', arguments: { task: 'E2E-CHILD2 wait forever', name: 'waiter' }, id: 'call_spawn2' }] },
      { match: 'E2E-CHILD2', hang: true },
      { match: 'E2E-PARENT', text: 'The waiter was stopped.' },
    ]);
    const chat = chatFrame();
    await say('and another one');
    const row = chat.locator('.tool[data-call-id="call_spawn2"] + .entry.agent');
    await row.getByRole('button', { name: 'Stop waiter' }).click({ timeout: 60_000 });
    mark('stopped the sub-agent');
    await row.locator('.agent-status', { hasText: /^(interrupted|stopped)$/ }).waitFor({ timeout: 60_000 });
    await row.locator('.agent-stop').waitFor({ state: 'detached' });
    await chat.locator('#transcript > .entry.assistant', { hasText: 'The waiter was stopped.' }).waitFor({ timeout: 60_000 });
    await shootSidebar('e2e-sub-agent-stopped.png');
    mark('the parent went on');
  } catch (error) {
    await failWith('stopping the sub-agent failed', error);
  }
});

test("a sub-agent's command approval shows in its row, naming it; allowed, its command runs and it answers", { timeout: 300_000 }, async () => {
  try {
    await loadScript([
      { match: 'E2E-PARENT', tool_calls: [{ name: 'spawn_agent', arguments: { task: 'E2E-CHILD3 run echo', name: 'runner' }, id: 'call_spawn3' }] },
      { match: 'E2E-CHILD3', tool_calls: [{ name: 'run_command', arguments: { command: 'echo from-runner' }, id: 'call_runner_cmd' }] },
      { match: 'E2E-CHILD3', text: 'Ran it.' },
      { match: 'E2E-PARENT', text: 'The runner ran it.' },
    ]);
    const chat = chatFrame();
    await say('and a command');
    const row = chat.locator('.tool[data-call-id="call_spawn3"] + .entry.agent');
    const box = row.locator('.agent-after .approval');
    await box.waitFor({ timeout: 60_000 });
    assert.equal(await box.locator('.approval-title span').first().textContent(), 'runner wants to run this command');
    assert.equal(await box.locator('.tool-command').textContent(), 'echo from-runner');
    assert.equal(await row.locator('.agent-status').textContent(), 'waiting for your approval');
    await shootSidebar('e2e-sub-agent-approval.png');
    await box.getByRole('button', { name: 'Allow', exact: true }).click();
    mark("allowed the sub-agent's command");
    assert.match(await toldModel('call_runner_cmd', /from-runner/), /exit 0/);
    await row.locator('.agent-answer', { hasText: 'Ran it.' }).waitFor({ timeout: 60_000 });
    await chat.locator('#transcript > .entry.assistant', { hasText: 'The runner ran it.' }).waitFor({ timeout: 60_000 });
    mark('it ran and answered; the parent went on');
  } catch (error) {
    await failWith("the sub-agent's approval failed", error);
  }
});

test('after a window reload the sub-agents come back from the history: their rows, statuses and answers, without their steps', { timeout: 300_000 }, async () => {
  try {
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    const yoi = page.locator('.activitybar a.action-label[aria-label="yoi"]');
    await yoi.waitFor({ timeout: 60_000 });
    // The window restores the yoi sidebar by itself; clicking its icon then would close it.
    const restored = await page
      .locator('.part.sidebar .composite.title', { hasText: 'Yoi' })
      .waitFor({ timeout: 15_000 })
      .then(
        () => true,
        () => false,
      );
    if (!restored) {
      await yoi.click();
    }
    const chat = chatFrame();
    await chat.locator('.entry.assistant', { hasText: 'The runner ran it.' }).waitFor({ timeout: 60_000 });
    const first = chat.locator('.tool[data-call-id="call_spawn"] + .entry.agent');
    await first.locator('.agent-answer', { hasText: ANSWER }).waitFor({ timeout: 60_000 });
    assert.equal(await first.locator('.agent-status').textContent(), 'finished');
    assert.equal(await first.locator('.agent-name').textContent(), 'research-agent');
    assert.match((await chat.locator('.tool[data-call-id="call_spawn2"] + .entry.agent .agent-status').textContent()) ?? '', /^(interrupted|stopped)$/);
    await chat.locator('.tool[data-call-id="call_spawn3"] + .entry.agent .agent-answer', { hasText: 'Ran it.' }).waitFor();
    assert.equal(await chat.locator('.entry.agent .agent-stop').count(), 0);
    await first.locator('.agent-details > summary').click();
    await first.locator('.agent-note', { hasText: /^Restored from the session/ }).waitFor();
    assert.equal(await first.locator('.agent-transcript > .entry').count(), 0);
    await shootSidebar('e2e-sub-agent-restored.png');
    mark('the sub-agents came back after the reload');
  } catch (error) {
    await failWith('restoring the sub-agents failed', error);
  }
});
