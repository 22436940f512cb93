/**
 * End to end in a real VS Code (code-server), with prices and a budget in the
 * user manifest ($1,000 / $2,000 per million tokens, $5 a session): the first
 * turn costs $3.20 and the status bar says so; the second is stopped before
 * its request (budgetExceeded) and the chat offers "Raise Session Budget…";
 * raising it to $20 lets the next message through to the model. Then
 * `Yoi: Show Context` shows what fills the window: System, Tools, History;
 * `Yoi: Choose Profile` lists the manifest's profile and "No profile".
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chatFrame, contextDocument, failWith, mark, modelRequests, page, runCommand, say, shoot, shootSidebar, startAll, stopAll, until } from './harness';

const MANIFEST =
  '[model]\ninput_cost_per_mtok = 1000.0\noutput_cost_per_mtok = 2000.0\n\n[budget]\nper_session_usd = 5.0\n\n' +
  '[profiles.reviewer]\ndescription = "Reads and reviews"\nmode = "plan"\n';
const reply = (text: string): unknown => ({ text, usage: { prompt_tokens: 3000, completion_tokens: 100 } });

before(async () => {
  await startAll([reply('The first answer.'), reply('The answer after the raise.')], { userManifest: MANIFEST });
});

after(async () => {
  await stopAll();
});

function statusItem(text: RegExp): ReturnType<typeof page.locator> {
  return page.locator('.statusbar-item', { hasText: text });
}

/** The user messages the scripted model received, one list per request. */
async function userTexts(): Promise<string[]> {
  return (await modelRequests()).map((r) => JSON.stringify(r.messages.filter((m) => m.role === 'user').at(-1)?.content ?? ''));
}

test('the session cost in the status bar; a budget stops a turn, "Raise Session Budget…" lets the next through; Show Context', { timeout: 300_000 }, async () => {
  try {
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'app.py' }).first();
    await row.waitFor({ timeout: 60_000 });
    await row.dblclick(); // the command palette is opened from the editor
    await page.locator('.tab', { hasText: 'app.py' }).first().waitFor();
    await page.locator('.activitybar a.action-label[aria-label="yoi"]').click();
    const chat = chatFrame();
    await chat.getByRole('textbox', { name: 'Message yoi' }).waitFor({ timeout: 60_000 });

    // The first turn: 3,000 tokens in, 100 out = $3.20.
    await say('first question');
    await chat.locator('.entry.assistant', { hasText: 'The first answer.' }).waitFor({ timeout: 60_000 });
    const cost = statusItem(/^openai\/scripted · agent · \d+% · \$3\.20$/);
    await cost.waitFor({ timeout: 30_000 });
    await cost.hover();
    const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: 'Cost of this session: $3.20' }).first();
    await hover.waitFor({ timeout: 15_000 });
    assert.match(await hover.innerText(), /Cost of the last turn: \$3\.20/);
    await page.mouse.move(700, 400);
    await chat.locator('#send:not([hidden])').waitFor({ timeout: 60_000 }); // the turn has ended
    assert.equal((await modelRequests()).length, 1);
    mark('the first turn cost $3.20, as the status bar says');

    // The second turn would pass $5: stopped before its request, with the raise offered.
    await say('second question');
    const stopped = chat.locator('.entry.notice', { hasText: 'Budget reached: this session has spent $3.2000' });
    await stopped.waitFor({ timeout: 60_000 });
    assert.match(await stopped.innerText(), /per_session_usd = 5/);
    assert.equal(await stopped.count(), 1, 'said once');
    const raise = stopped.getByRole('button', { name: 'Raise Session Budget…' });
    await raise.waitFor();
    await chat.locator('#send:not([hidden])').waitFor();
    assert.equal((await modelRequests()).length, 1, 'the stopped request never reached the model');
    await shootSidebar('e2e-budget.png');
    mark('the second turn was stopped by the budget');

    // Raise Session Budget…: the input box offers double the limit; 20 is sent.
    await raise.click();
    const box = page.locator('.quick-input-widget input');
    await until(async () => (await box.inputValue().catch(() => '')) === '10', 'the input box to offer 10');
    assert.match(await page.locator('.quick-input-widget').innerText(), /has spent \$3\.20 of its \$5\.00 budget/);
    await box.fill('20');
    await box.press('Enter');
    await chat.locator('.entry.notice', { hasText: 'Session budget raised to $20.00 (spent so far: $3.20). Send your message again to go on.' }).waitFor({ timeout: 30_000 });
    assert.equal(await raise.count(), 0, 'the button is gone once raised');
    mark('raised the session budget to $20');

    await say('go on now');
    await chat.locator('.entry.assistant', { hasText: 'The answer after the raise.' }).waitFor({ timeout: 60_000 });
    const texts = await userTexts();
    assert.equal(texts.length, 2);
    assert.match(texts[1] ?? '', /go on now/);
    await statusItem(/· \$6\.40$/).waitFor({ timeout: 30_000 });
    await chat.locator('#send:not([hidden])').waitFor({ timeout: 60_000 });
    mark('the next message went through to the model');

    // Show Context: the total against the window, then System, Tools and History.
    await runCommand('Yoi: Show Context');
    const context = await contextDocument();
    await context.locator('section[data-group="history"]').waitFor({ timeout: 30_000 });
    const groups = await context.locator('.context-group h2 .context-group-title').allInnerTexts();
    assert.deepEqual(groups, ['System', 'Tools', 'History']);
    assert.match(await context.locator('#context-headline').innerText(), /^[\d,]+ \/ [\d,]+ tokens · \d+% · (compacts at [\d,]+|no compaction between turns)$/);
    const tools = await context.locator('section[data-group="tools"] .context-part-label').allInnerTexts();
    assert.ok(tools.some((t) => t.startsWith('read_file')), `the tools: ${tools.join(', ')}`);
    const history = await context.locator('section[data-group="history"] .context-part-label').allInnerTexts();
    assert.ok(history.some((t) => t.startsWith('user messages')), `the history: ${history.join(', ')}`);
    assert.match(await context.locator('#context-pruned').innerText(), /^Pruning leaves/);
    await shoot('e2e-context.png');
    mark('Show Context shows the System, Tools and History groups');

    // Choose Profile: the manifests' profiles (yoi/profiles/list) and "No profile", the current one checked.
    await runCommand('Yoi: Choose Profile');
    const rows = page.locator('.quick-input-list .monaco-list-row');
    const reviewer = rows.filter({ hasText: 'reviewer' });
    await reviewer.waitFor();
    // name, description (or "current"), and on a line of its own what the profile sets
    assert.deepEqual((await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, '')), ['Noprofilecurrent', 'reviewerReadsandreviewsplanmode']);
    assert.equal(await rows.filter({ hasText: 'No profile' }).locator('.codicon-check').count(), 1);
    await reviewer.click();
    await statusItem(/^openai\/scripted · plan · \d+% · \$6\.40$/).waitFor({ timeout: 30_000 });
    await runCommand('Yoi: Choose Profile');
    await reviewer.locator('.codicon-check').waitFor();
    await rows.filter({ hasText: 'No profile' }).click();
    await runCommand('Yoi: Choose Profile');
    await rows.filter({ hasText: 'No profile' }).locator('.codicon-check').waitFor();
    assert.equal(await reviewer.locator('.codicon-check').count(), 0, 'the profile was dropped');
    await page.keyboard.press('Escape');
    assert.match(await statusItem(/openai\/scripted/).innerText(), /· plan ·/, "the profile's mode stays");
    mark('Choose Profile listed the manifest\'s profile, applied it and dropped it');
  } catch (error) {
    await failWith('the money run failed', error);
  }
});
