/**
 * End to end in a real VS Code (code-server): `Yoi: Switch Mode` to Plan (the
 * status bar says so, and the model is offered no edit or command tool), the
 * chat's "Execute plan" (agent mode again, then "Carry out the plan."),
 * `Yoi: Switch Model` (the next request goes to the new model), a switch
 * asked for during a turn is refused with "wait for the turn to end", and
 * `Yoi: Choose Profile` tells the server's answer to an unknown profile.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chatFrame, failWith, mark, modelRequests, page, runCommand, say, shootSidebar, startAll, stopAll, told, until, type ModelRequest } from './harness';

const WRITERS = ['edit_file', 'write_file', 'run_command'];
const PLAN = 'Plan: 1. read app.py 2. make main return 2.';
/** long enough, streamed slowly enough, for a switch asked for meanwhile to find the turn running */
const SLOW = { text: `I am the other model. ${'Still answering. '.repeat(12)}The end.`, chunk_size: 2, chunk_delay_ms: 100 };

before(async () => {
  await startAll([{ text: PLAN }, { text: 'Carried it out.' }, SLOW]);
});

after(async () => {
  await stopAll();
});

const toolNames = (request: ModelRequest): string[] => (request.tools ?? []).map((t) => t.function.name);

/** The request whose last user message says `text`. */
async function requestFor(text: string): Promise<ModelRequest> {
  let found: ModelRequest | undefined;
  await until(async () => {
    found = (await modelRequests()).find((r) => JSON.stringify(r.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '').includes(text));
    return found !== undefined;
  }, `a request for "${text}"`);
  assert.ok(found !== undefined);
  return found;
}

function statusItem(text: RegExp): ReturnType<typeof page.locator> {
  return page.locator('.statusbar-item', { hasText: text });
}

test('Switch Mode to Plan, Execute plan, Switch Model; a switch during a turn waits for its end; Choose Profile', { timeout: 300_000 }, async () => {
  try {
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'app.py' }).first();
    await row.waitFor({ timeout: 60_000 });
    await row.dblclick(); // the command palette is opened from the editor
    await page.locator('.tab', { hasText: 'app.py' }).first().waitFor();
    await page.locator('.activitybar a.action-label[aria-label="yoi"]').click();
    const chat = chatFrame();
    await chat.getByRole('textbox', { name: 'Message yoi' }).waitFor({ timeout: 60_000 });
    await statusItem(/· agent/).waitFor({ timeout: 60_000 });

    // Switch Mode: Agent / Plan / Ask, each with its line, the current one marked.
    await runCommand('Yoi: Switch Mode');
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'Plan' }).waitFor();
    assert.deepEqual((await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, '')), [
      'AgentReads,editsfilesandrunscommands(current)',
      'PlanReadsandplans:noedits,nocommands',
      'AskAnswersfromtheconversation:notools',
    ]);
    assert.equal(await rows.filter({ hasText: 'Agent' }).locator('.codicon-check').count(), 1, 'the current mode is checked');
    await rows.filter({ hasText: 'Plan' }).click();
    await statusItem(/· plan/).waitFor();
    await chat.getByRole('radiogroup', { name: 'Mode' }).locator('[aria-checked="true"]', { hasText: 'Plan' }).waitFor(); // the picker by the input follows
    mark('switched to plan mode');

    await say('plan the change');
    await chat.locator('.entry.assistant', { hasText: PLAN }).waitFor({ timeout: 60_000 });
    const planned = await requestFor('plan the change');
    const offered = toolNames(planned);
    assert.ok(offered.includes('read_file'), `plan mode reads: ${offered.join(', ')}`);
    for (const writer of WRITERS) {
      assert.ok(!offered.includes(writer), `plan mode offered ${writer}: ${offered.join(', ')}`);
    }
    await statusItem(/^openai\/scripted · plan · \d+%$/).waitFor({ timeout: 30_000 });
    mark('the plan request offered only reading tools');

    // Execute plan: agent mode, then "Carry out the plan."
    const execute = chat.getByRole('button', { name: 'Execute plan' });
    await execute.waitFor({ timeout: 30_000 });
    await shootSidebar('e2e-execute-plan.png');
    await execute.click();
    await chat.locator('.entry.assistant', { hasText: 'Carried it out.' }).waitFor({ timeout: 60_000 });
    await chat.locator('.entry.user', { hasText: 'Carry out the plan.' }).waitFor();
    const carried = toolNames(await requestFor('Carry out the plan.'));
    for (const writer of WRITERS) {
      assert.ok(carried.includes(writer), `agent mode offers ${writer}: ${carried.join(', ')}`);
    }
    await statusItem(/^openai\/scripted · agent/).waitFor();
    assert.equal(await execute.isVisible(), false);
    await chat.locator('#send:not([hidden])').waitFor({ timeout: 60_000 }); // the turn has ended
    mark('executed the plan in agent mode');

    // Switch Model: the input box holds the current model.
    await runCommand('Yoi: Switch Model');
    const box = page.locator('.quick-input-widget input');
    await until(async () => (await box.inputValue()) === 'openai/scripted', 'the current model in the input box');
    await box.fill('openai/other-model');
    await box.press('Enter');
    await statusItem(/^openai\/other-model · agent/).waitFor();
    mark('switched the model');

    // During a turn a switch (here from the status bar item) is refused: wait for the turn to end.
    await say('who are you?');
    await chat.locator('.entry.assistant', { hasText: 'I am the other model.' }).waitFor({ timeout: 60_000 });
    await statusItem(/openai\/other-model · agent/).click();
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Ask' }).click();
    await told(/wait for the turn to end/);
    await chat.locator('.entry.assistant', { hasText: 'The end.' }).waitFor({ timeout: 60_000 });
    const other = await requestFor('who are you?');
    assert.equal(other.model, 'other-model');
    assert.ok(toolNames(other).includes('edit_file'), 'still agent mode');
    assert.match(await statusItem(/openai\/other-model/).innerText(), /· agent/);
    mark('the next request went to the new model; the switch during it was refused');

    // Choose Profile: a name typed in; one the manifests do not define is refused in the server's words.
    await runCommand('Yoi: Choose Profile');
    const name = page.locator('.quick-input-widget input');
    await name.fill('reviewer');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'use this profile' }).waitFor();
    await name.press('Enter');
    await told(/yoi could not use the profile "reviewer": There is no profile 'reviewer'/);
    assert.match(await statusItem(/openai\/other-model/).innerText(), /· agent/);
    mark('an unknown profile was refused with the server\'s message');
  } catch (error) {
    await failWith('the modes run failed', error);
  }
});
