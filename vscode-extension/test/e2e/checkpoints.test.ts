/**
 * End to end in a real VS Code (code-server): a user message's "Restore
 * checkpoint" puts back the files a command changed (asking first where the
 * user changed one since) and takes the conversation back to before that
 * message (the chat redraws from the fork's history); "Show changes since here"
 * opens a diff editor; "Edit and resend" puts a message back into the input and
 * sends it again from there.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chatFrame, failWith, loadScript, mark, ORIGINAL, page, say, shootSidebar, startAll, stopAll, ws } from './harness';

const COMMAND = "echo made > gen.txt && printf '# touched\\n' >> app.py";

before(async () => {
  await startAll([{ text: 'Hello.' }, { tool_calls: [{ name: 'run_command', arguments: { command: COMMAND }, id: 'call_gen' }] }, { text: 'Generated gen.txt.' }]);
});

after(async () => {
  await stopAll();
});

test('a user message: Show changes since here, Restore checkpoint (asking before overwriting a change of the user), Edit and resend', { timeout: 300_000 }, async () => {
  try {
    await page.locator('.activitybar a.action-label[aria-label="yoi"]').click();
    const chat = chatFrame();
    await chat.getByRole('textbox', { name: 'Message yoi' }).waitFor({ timeout: 60_000 });
    await say('say hello');
    await chat.locator('.entry.assistant', { hasText: 'Hello.' }).waitFor({ timeout: 60_000 });
    await say('generate a file');
    await chat.locator('.tool[data-call-id="call_gen"] .approval [data-approve="allow"]').click({ timeout: 60_000 });
    await chat.locator('.entry.assistant', { hasText: 'Generated gen.txt.' }).waitFor({ timeout: 60_000 });
    await chat.locator('#send:not([hidden])').waitFor({ timeout: 60_000 }); // the turn has ended
    assert.equal(readFileSync(join(ws, 'gen.txt'), 'utf8'), 'made\n');
    assert.equal(readFileSync(join(ws, 'app.py'), 'utf8'), `${ORIGINAL}# touched\n`);
    mark('the command changed the files');

    // Show changes since the second message: a pick of the two files, then a diff editor.
    const second = chat.locator('.entry.user', { hasText: 'generate a file' });
    await second.hover();
    await second.getByRole('button', { name: 'Show changes since here' }).click();
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'gen.txt' }).waitFor();
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'app.py' }).click();
    await page.locator('.quick-input-widget input').press('Enter');
    await page.locator('.tab', { hasText: 'app.py (since message 2, modified)' }).waitFor();
    await page.locator('.editor-instance .monaco-diff-editor .modified', { hasText: '# touched' }).waitFor();
    mark('showed the changes since the message');

    // A change made outside yoi since: the restore asks before overwriting it.
    writeFileSync(join(ws, 'app.py'), `${ORIGINAL}# touched\n# mine\n`);
    // Restore the second message's checkpoint: files and conversation.
    await second.hover();
    await second.getByRole('button', { name: 'Restore checkpoint' }).click();
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Files and conversation' }).click();
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Overwrite your changes to app.py?' });
    await dialog.locator('.monaco-button', { hasText: 'Overwrite' }).click({ timeout: 60_000 });
    await chat.locator('.entry.notice', { hasText: 'Back to before message 2' }).waitFor({ timeout: 60_000 });
    assert.equal(existsSync(join(ws, 'gen.txt')), false, 'gen.txt, made by the command, is gone');
    assert.equal(readFileSync(join(ws, 'app.py'), 'utf8'), ORIGINAL);
    assert.equal(await chat.locator('.entry.user').count(), 1, 'the chat ends before the restored message');
    assert.equal(await chat.locator('.entry.user', { hasText: 'say hello' }).count(), 1);
    assert.equal(await chat.locator('.tool[data-call-id="call_gen"]').count(), 0);
    assert.equal(await chat.locator('.entry.assistant', { hasText: 'Generated gen.txt.' }).count(), 0);
    await shootSidebar('e2e-checkpoint-restored.png');
    mark('restored the files and the conversation');

    // Edit and resend the first message: the chat continues from before it.
    await loadScript([{ text: 'Hello again.' }]);
    const first = chat.locator('.entry.user', { hasText: 'say hello' });
    await first.hover();
    await first.getByRole('button', { name: 'Edit and resend' }).click();
    const input = chat.getByRole('textbox', { name: 'Message yoi' });
    assert.equal(await input.inputValue(), 'say hello');
    await input.press('End');
    await input.pressSequentially(' again');
    await input.press('Enter');
    await chat.locator('.entry.assistant', { hasText: 'Hello again.' }).waitFor({ timeout: 60_000 });
    assert.deepEqual(await chat.locator('.entry.user .user-text').allTextContents(), ['say hello again']);
    assert.equal(await chat.locator('.entry.assistant').count(), 1, 'the old answer is gone');
    mark('edited and resent the first message');
  } catch (error) {
    await failWith('the checkpoint run failed', error);
  }
});
