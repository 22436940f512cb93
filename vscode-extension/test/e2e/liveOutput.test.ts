/**
 * End to end in a real VS Code (code-server): a running command's output shows
 * live in its tool row, and the row's Stop button stops that one command (the
 * model gets the output so far, "stopped by the user", and the turn goes on);
 * an edit kept in a file without unsaved changes is saved, so the command run
 * next sees it.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chatFrame, failWith, loadScript, mark, page, say, shootSidebar, startAll, stopAll, toldModel, ws } from './harness';

const SLOW = 'for i in $(seq 1 600); do echo tick-$i; sleep 0.1; done';

before(async () => {
  await startAll([{ tool_calls: [{ name: 'run_command', arguments: { command: SLOW }, id: 'call_slow' }] }, { text: 'Stopped it after a few ticks.' }]);
});

after(async () => {
  await stopAll();
});

test('a command shows its output live in the row, and Stop stops it', { timeout: 300_000 }, async () => {
  try {
    await page.locator('.activitybar a.action-label[aria-label="yoi"]').click();
    const chat = chatFrame();
    await chat.getByRole('textbox', { name: 'Message yoi' }).waitFor({ timeout: 60_000 });
    await say('run the slow one');
    const row = chat.locator('.tool[data-call-id="call_slow"]');
    await row.locator('.approval [data-approve="allow"]').click({ timeout: 60_000 });
    mark('allowed');

    // While it runs: the summary follows the last line, the open row shows the last lines.
    await row.locator('.tool-summary', { hasText: /^tick-\d+$/ }).waitFor({ timeout: 60_000 });
    await row.locator('summary').click();
    const live = row.locator('.tool-live .tool-output-text');
    await live.filter({ hasText: 'tick-5' }).waitFor({ timeout: 60_000 });
    const first = (await row.locator('.tool-summary').textContent()) ?? '';
    await row.locator('.tool-summary', { hasText: /^tick-\d+$/ }).filter({ hasNotText: first }).waitFor({ timeout: 30_000 });
    assert.equal(await row.getAttribute('class'), 'entry tool tool-running');
    await shootSidebar('e2e-live-output.png');
    mark('the output is live');

    // Stop: that command ends, the model gets its output so far, the turn goes on.
    await row.getByRole('button', { name: 'Stop this command' }).click();
    await chat.locator('.tool.tool-ok[data-call-id="call_slow"]').waitFor({ timeout: 60_000 });
    assert.match((await row.locator('.tool-summary').textContent()) ?? '', /^stopped by the user/);
    const told = await toldModel('call_slow', /stopped by the user/);
    assert.match(told, /tick-1\ntick-2\n/);
    assert.doesNotMatch(told, /tick-600/);
    await chat.locator('.entry.assistant', { hasText: 'Stopped it after a few ticks.' }).waitFor({ timeout: 60_000 });
    await row.locator('.tool-stop').waitFor({ state: 'detached' });
    assert.match((await row.locator('.tool-output-text').textContent()) ?? '', /stopped by the user/);
    await shootSidebar('e2e-live-stopped.png');
    mark('stopped that command');
  } catch (error) {
    await failWith('the live output run failed', error);
  }
});

test('an edit kept in a file without unsaved changes is saved, and the next command sees it', { timeout: 300_000 }, async () => {
  try {
    await loadScript([
      { tool_calls: [{ name: 'read_file', arguments: { path: 'app.py' }, id: 'call_read' }] },
      { tool_calls: [{ name: 'edit_file', arguments: { path: 'app.py', old_string: 'return 1', new_string: 'return 2' }, id: 'call_save_edit' }] },
      { tool_calls: [{ name: 'run_command', arguments: { command: 'cat app.py' }, id: 'call_cat' }] },
      { text: 'The file now returns 2.' },
    ]);
    const chat = chatFrame();
    await say('make main return 2');
    const editRow = chat.locator('.tool[data-call-id="call_save_edit"]');
    await editRow.getByRole('button', { name: 'Keep All' }).click({ timeout: 60_000 });
    mark('kept the edit');
    await chat.locator('.tool[data-call-id="call_cat"] .approval [data-approve="allow"]').click({ timeout: 60_000 });
    const told = await toldModel('call_cat', /exit 0/);
    assert.match(told, /return 2/, 'the command saw the kept edit');
    assert.doesNotMatch(told, /note:/);
    assert.match(readFileSync(join(ws, 'app.py'), 'utf8'), /return 2/);
    await page.locator('.tab', { hasText: 'app.py' }).first().waitFor();
    assert.equal(await page.locator('.tab.dirty', { hasText: 'app.py' }).count(), 0, 'saved, not dirty');
    await chat.locator('.entry.assistant', { hasText: 'The file now returns 2.' }).waitFor({ timeout: 60_000 });
    mark('the command saw the saved edit');
  } catch (error) {
    await failWith('the saved edit run failed', error);
  }
});
