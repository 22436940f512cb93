/**
 * End to end in a real VS Code (code-server), as a user would: one code-server,
 * one yoi server and one scripted model for the whole file (harness.ts); the
 * tests run in order and each picks up where the last one left the window.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  chatDocument,
  chatFrame,
  editorShows,
  editorText,
  failWith,
  imagesSent,
  loadScript,
  mark,
  ORIGINAL,
  page,
  runCommand,
  say,
  shoot,
  shootSidebar,
  startAll,
  stopAll,
  toldModel,
  until,
  writeLongSession,
  writeMachineSettings,
  told,
  writeWorkspaceSettings,
  ws,
} from './harness';

const read = (id: string): unknown => ({ tool_calls: [{ name: 'read_file', arguments: { path: 'app.py' }, id }] });
const edit = (id: string, old_string: string, new_string: string): unknown => ({
  tool_calls: [{ name: 'edit_file', arguments: { path: 'app.py', old_string, new_string }, id }],
});

// a 1×1 PNG
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

const SCRIPT = [
  read('call_read'),
  // one call, two hunks: two changes to review
  edit('call_edit', 'return 1\n\n\ndef other():\n    return 3', 'return 2\n\n\ndef other():\n    return 4'),
  {
    text: 'I changed `main()` to **return 2**:\n\n```python\ndef main():\n    return 2\n```\n\nYour unsaved note is kept.',
    chunk_size: 4,
    chunk_delay_ms: 60,
  },
];

before(async () => {
  await startAll(SCRIPT, { mcp: true });
});

after(async () => {
  await stopAll();
});

/** The review editor's code lens links, by their words. */
function lens(words: RegExp): ReturnType<typeof page.locator> {
  return page.locator('.codelens-decoration > a, .codelens-decoration > span', { hasText: words });
}

/** Record, inside the chat page, the order in which the working indicator and the first reply text appear. */
async function watchOrder(): Promise<() => Promise<string[]>> {
  const frame = await chatDocument();
  await frame.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { yoiSeen: string[] }).yoiSeen = seen;
    const look = (): void => {
      const activity = document.getElementById('activity');
      const label = activity?.querySelector('.activity-label')?.textContent ?? '';
      if (activity !== null && !activity.hidden && label !== '' && seen[seen.length - 1] !== label) {
        seen.push(label);
      }
      if (!seen.includes('text') && document.querySelector('.entry.assistant') !== null) {
        seen.push('text');
      }
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    look();
  });
  return () => frame.evaluate(() => (window as unknown as { yoiSeen: string[] }).yoiSeen);
}

test('chat about an unsaved buffer; keep one change and undo the other in the editor; open a knowledge record', { timeout: 300_000 }, async () => {
  try {
    // Open app.py and change it without saving.
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'app.py' }).first();
    await row.waitFor({ timeout: 60_000 });
    await row.dblclick();
    await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor();
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('# unsaved note\n');
    await page.locator('.tab.dirty', { hasText: 'app.py' }).waitFor();
    mark('app.py changed');

    // Chat with an @ reference picked from the list (open editors first).
    await page.locator('.activitybar a.action-label[aria-label="yoi"]').click();
    const chat = chatFrame();
    const input = chat.getByRole('textbox', { name: 'Message yoi' });
    await input.waitFor({ timeout: 60_000 });
    const order = await watchOrder();
    await input.click();
    await input.pressSequentially('please fix @ap');
    const option = chat.getByRole('option').first();
    await option.waitFor({ timeout: 60_000 });
    assert.equal(await option.locator('.picker-label').textContent(), 'app.py');
    assert.equal(await option.locator('.picker-badge').textContent(), 'open');
    await input.press('Enter');
    await input.pressSequentially('now');
    await input.press('Enter');
    mark('sent the first message');

    // From Enter on, the working indicator names what happens (the first turn also loads the model client).
    await chat.locator('#activity').waitFor({ state: 'visible', timeout: 30_000 });
    await shootSidebar('e2e-working.png');
    await chat.locator('.entry.user .chip', { hasText: 'app.py' }).waitFor();

    // The read and the proposed edit show as tool rows; the edit opens its review in the editor.
    await chat.locator('.tool.tool-ok', { hasText: 'read_file' }).waitFor({ timeout: 60_000 });
    const editRow = chat.locator('.tool[data-call-id="call_edit"]');
    await editRow.locator('.tool-review', { hasText: 'Review 2 changes in the editor' }).waitFor({ timeout: 60_000 });
    await lens(/^\W*Keep$/).first().waitFor({ timeout: 60_000 });
    assert.equal(await lens(/^\W*Keep$/).count(), 2, 'a Keep above each change');
    assert.equal(await lens(/^\W*Undo$/).count(), 2, 'an Undo above each change');
    await lens(/Keep All/).waitFor();
    mark('the review is open');
    const shown = await editorText();
    assert.match(shown, /return 1\s+return 2/, 'the old and the new line of the first change, in place');
    assert.match(shown, /# unsaved note/, 'the review shows the buffer, unsaved text included');
    await page.mouse.move(700, 700);
    await shoot('e2e-review.png');

    // Keep the first change with its code lens; undo the second with the keyboard (Alt+N).
    await lens(/^\W*Keep$/).first().click();
    await lens(/^\W*Kept$/).waitFor();
    await editRow.locator('.tool-review', { hasText: '1 of 2 changes decided' }).waitFor();
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Alt+n');

    // The review closes and the buffer has exactly the kept change (nothing is written to disk).
    await editRow.locator('.tool-review').waitFor({ state: 'detached', timeout: 60_000 });
    await editorShows(/return 2[\s\S]*return 3[\s\S]*# unsaved note/);
    const text = await editorText();
    assert.doesNotMatch(text, /return 4/, 'the undone change was not applied');
    assert.doesNotMatch(text, /return 1/);
    assert.equal(readFileSync(join(ws, 'app.py'), 'utf8'), ORIGINAL, 'the editor owns saving');
    // Only part of the edit was kept, so the model is told to read the file again.
    await toldModel('call_edit', /applied only part of the change to app\.py/);
    mark('the model was told: partly kept');

    // The reply streams in; the indicator was there before its first text.
    await chat.locator('.entry.assistant .markdown:not(.streaming) pre code.language-python').waitFor({ timeout: 60_000 });
    assert.equal(await chat.locator('.entry.assistant strong').textContent(), 'return 2');
    const seen = await order();
    // (Preparing… shows until the server's first event, which may come within the same frame)
    assert.ok(seen.indexOf('text') >= 1, `the indicator was there before the first text: ${seen.join(' → ')}`);
    assert.ok(seen.slice(0, seen.indexOf('text')).every((s) => s.endsWith('…')), seen.join(' → '));
    assert.ok(seen.some((s) => /^(Waiting for the model|Loading the model client|Running read_file)…$/.test(s)), seen.join(' → '));
    // (inside the collapsed row) one change kept, one undone: the result says "partly applied"
    await editRow.locator('.edit-partial .edit-status', { hasText: /^partly applied/ }).waitFor({ state: 'attached' });
    assert.equal(await editRow.getAttribute('class'), 'entry tool tool-failed');
    await chat.locator('#send').waitFor({ state: 'visible' });
    await chat.locator('#activity').waitFor({ state: 'hidden' });
    assert.match((await chat.locator('.entry.usage').last().textContent()) ?? '', /^Turn: \S+ in · \S+ out/);
    const status = (await chat.locator('#status').textContent()) ?? '';
    assert.match(status, /openai\/scripted/);
    assert.match(status, /context \d/);
    // the model's window (the fallback for a model litellm does not know) and the share of it used
    await until(async () => /context \S+ · \d+% of 32k/.test((await chat.locator('#status').textContent()) ?? ''), 'the share of the window in the status line');
    await shootSidebar('e2e-chat.png');
    mark('the reply is in');

    // The knowledge view lists the record; opening it opens its file.
    const record = page.locator('.monaco-list-row', { hasText: 'Naming conventions' });
    await record.waitFor({ timeout: 60_000 });
    assert.match((await record.textContent()) ?? '', /in prompt/);
    // memory comes from the manifest's memory_dir (notes/memory), not the default .yoi/memory
    await page.locator('.monaco-list-row', { hasText: 'Indent with four spaces' }).waitFor();
    assert.equal(await page.locator('.monaco-list-row', { hasText: 'Decoy from the default folder' }).count(), 0);
    await record.click();
    await page.locator('.tab', { hasText: 'naming.md' }).waitFor({ timeout: 60_000 });
    await page.locator('.editor-instance .monaco-editor .view-lines', { hasText: 'Naming conventions' }).waitFor();
    await shoot('e2e-workbench.png');
    mark('the knowledge record is open');

    // The MCP Servers view lists the workspace manifest's time server once it is connected (they start
    // at the first quiet moment), its tools as children; its inline Restart reconnects it.
    const server = page.locator('.monaco-list-row', { hasText: 'connected · 2 tools' });
    await server.waitFor({ timeout: 120_000 });
    assert.match((await server.textContent()) ?? '', /^time/);
    await server.click();
    await page.locator('.monaco-list-row', { hasText: 'get_current_time' }).waitFor();
    await page.locator('.monaco-list-row', { hasText: 'convert_time' }).waitFor();
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { yoiMcpSeen: string[] }).yoiMcpSeen = seen;
      new MutationObserver(() => {
        for (const row of document.querySelectorAll('.monaco-list-row')) {
          const text = row.textContent;
          if (text.startsWith('time') && seen[seen.length - 1] !== text) {
            seen.push(text);
          }
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await server.hover();
    await server.getByRole('button', { name: 'Restart MCP Server…' }).click();
    const mcpRows = (): Promise<string[]> => page.evaluate(() => (window as unknown as { yoiMcpSeen: string[] }).yoiMcpSeen);
    await until(async () => (await mcpRows()).some((text) => text.includes('starting')), 'the time server starting again after Restart');
    await page.locator('.monaco-list-row', { hasText: 'connected · 2 tools' }).waitFor({ timeout: 120_000 });
    assert.ok(!(await mcpRows()).some((text) => text.includes('failed')), (await mcpRows()).join(' → '));
    await shootSidebar('e2e-mcp.png');
    mark('the MCP server restarted from its view');
  } catch (error) {
    await failWith('the end-to-end run failed', error);
  }
});

test('Undo All from the chat row, Keep All by keyboard, and Apply in the Refactor Preview option', { timeout: 300_000 }, async () => {
  try {
    await loadScript([
      read('r_undo'),
      edit('call_undo', 'def other():', 'def renamed():'),
      { text: 'Understood, I left other() alone.' },
      edit('call_keep', 'def other():', 'def kept_name():'),
      { text: 'Renamed it.' },
      { tool_calls: [{ name: 'write_file', arguments: { path: 'notes.md', content: '# Notes\n\nKept from the review.\n' }, id: 'call_new' }] },
      { text: 'Wrote notes.md.' },
      read('r_preview'),
      edit('call_preview', 'return 2', 'return 20'),
      { text: 'Applied through the preview.' },
    ]);
    const chat = chatFrame();
    await page.locator('.tab', { hasText: 'app.py' }).first().click();

    // Undo All from the chat row: nothing changes, and the model hears it was rejected.
    await say('rename other');
    const undoRow = chat.locator('.tool[data-call-id="call_undo"]');
    await undoRow.locator('.tool-review').waitFor({ timeout: 60_000 });
    await lens(/^\W*Keep$/).waitFor({ timeout: 60_000 });
    await undoRow.getByRole('button', { name: 'Undo All' }).click();
    await toldModel('call_undo', /rejected the change to app\.py; nothing was written \(the user undid every change in the review\)/);
    await chat.locator('.entry.assistant', { hasText: 'Understood, I left other() alone.' }).waitFor({ timeout: 60_000 });
    await editorShows(/def other\(\)/);
    mark('Undo All done');

    // Keep All with its keybinding (Alt+Shift+Y) from the review editor.
    await say('rename it anyway');
    await lens(/^\W*Keep$/).waitFor({ timeout: 60_000 });
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Alt+Shift+Y');
    await toldModel('call_keep', /^Edited app\.py/);
    await editorShows(/def kept_name\(\)/);
    await chat.locator('.entry.assistant', { hasText: 'Renamed it.' }).waitFor({ timeout: 60_000 });
    mark('Keep All done');

    // A new file is reviewed too: all of it added; kept, it opens (created, its text not saved yet).
    await say('write some notes');
    await lens(/^\W*Keep$/).waitFor();
    assert.match(await editorText(), /# Notes[\s\S]*Kept from the review\./);
    await lens(/^\W*Keep$/).click();
    await page.locator('.tab', { hasText: 'notes.md' }).waitFor();
    await editorShows(/Kept from the review\./);
    await toldModel('call_new', /notes\.md \(\d+ bytes\)/);
    await chat.locator('.entry.assistant', { hasText: 'Wrote notes.md.' }).waitFor({ timeout: 60_000 });
    mark('a new file kept');

    // The Refactor Preview, as a setting: the change arrives ticked, and Apply applies it.
    writeWorkspaceSettings({ 'yoi.editReview': 'refactorPreview' });
    await new Promise((r) => setTimeout(r, 2000)); // VS Code reads the changed settings file
    await say('make it 20');
    const apply = page.getByRole('button', { name: 'Apply', exact: true });
    await apply.waitFor({ timeout: 60_000 });
    const change = page.locator('.monaco-list-row', { hasText: 'return 20' }).last();
    await change.waitFor();
    const ticked = await change
      .locator('[role="checkbox"], .monaco-checkbox, input[type="checkbox"]')
      .first()
      .evaluate((el) => el.getAttribute('aria-checked') === 'true' || el.classList.contains('checked') || (el instanceof HTMLInputElement && el.checked));
    assert.ok(ticked, 'the change arrives ticked');
    await shoot('e2e-refactor-preview.png');
    await apply.click();
    await page.locator('.tab', { hasText: 'app.py' }).first().click();
    await editorShows(/return 20/);
    await toldModel('call_preview', /^Edited app\.py/);
    await chat.locator('.entry.assistant', { hasText: 'Applied through the preview.' }).waitFor({ timeout: 60_000 });
    mark('the Refactor Preview applied');
    writeWorkspaceSettings({});
  } catch (error) {
    await failWith('the review run failed', error);
  }
});

test('a command asks inside the chat and is allowed by keyboard; its output shows in the row; Stop withdraws a waiting approval; a reload restores the chat', { timeout: 300_000 }, async () => {
  try {
    await loadScript([
      { tool_calls: [{ name: 'run_command', arguments: { command: "seq -f 'line-%g' 1 30" }, id: 'call_cmd' }] },
      { text: 'The command printed thirty lines.' },
      { tool_calls: [{ name: 'run_command', arguments: { command: 'echo never-run' }, id: 'call_wait' }] },
    ]);
    const chat = chatFrame();
    await say('count to thirty');

    // The approval waits in the tool row: the command, its folder, and the focus on Allow.
    const cmdRow = chat.locator('.tool[data-call-id="call_cmd"]');
    const approval = cmdRow.locator('.approval');
    await approval.waitFor({ timeout: 60_000 });
    assert.equal(await approval.locator('.tool-command code').textContent(), "seq -f 'line-%g' 1 30");
    assert.equal(await approval.locator('.approval-cwd code').textContent(), ws);
    assert.deepEqual(await approval.getByRole('button').allInnerTexts(), ['Allow', 'Allow for this Session', 'Always allow in this workspace', 'Deny']);
    await until(async () => (await approval.locator('[data-approve="allow"]').evaluate((el) => el === document.activeElement)), 'the focus on Allow');
    assert.equal(await chat.locator('#activity .activity-label').textContent(), 'Waiting for your approval…');
    await shootSidebar('e2e-approval.png');
    await page.keyboard.press('Enter');
    mark('allowed by keyboard');

    // The row ends with the command's whole output, live (no reload): the last lines, then all of it.
    await chat.locator('.tool.tool-ok[data-call-id="call_cmd"]').waitFor({ timeout: 60_000 });
    await approval.waitFor({ state: 'detached' });
    await chat.locator('.entry.assistant', { hasText: 'The command printed thirty lines.' }).waitFor({ timeout: 60_000 });
    await cmdRow.locator('summary').click();
    const output = cmdRow.locator('.tool-output-text');
    await output.waitFor();
    assert.match((await output.textContent()) ?? '', /line-19\n[\s\S]*line-30$/);
    await output.scrollIntoViewIfNeeded();
    await shootSidebar('e2e-tool-output.png');
    await cmdRow.getByRole('button', { name: /Show all \d+ lines/ }).click();
    assert.match((await output.textContent()) ?? '', /line-1\nline-2\n[\s\S]*line-30$/);
    await chat.locator('#send').waitFor({ state: 'visible' });
    mark('the output was shown');

    // Stop while an approval waits: the server withdraws it and the prompt goes away.
    await say('and once more');
    const waiting = chat.locator('.tool[data-call-id="call_wait"] .approval');
    await waiting.waitFor({ timeout: 60_000 });
    await chat.getByRole('button', { name: 'Stop' }).click();
    await waiting.waitFor({ state: 'detached', timeout: 60_000 });
    await chat.locator('.notice', { hasText: 'Stopped.' }).waitFor({ timeout: 60_000 });
    mark('stopped');
    await chat.locator('#send').waitFor({ state: 'visible' });

    // After a window reload the conversation comes back from yoi/pod/history.
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
    const again = chatFrame();
    await again.locator('.entry.assistant', { hasText: 'The command printed thirty lines.' }).waitFor({ timeout: 60_000 });
    await again.locator('.entry.user .chip', { hasText: 'app.py' }).waitFor();
    assert.equal(await again.locator('.tool[data-call-id="call_edit"]').getAttribute('class'), 'entry tool tool-failed');
    // Each edit row still says how its edit ended (kept in the session's history).
    const ended = { call_edit: 'partial', call_undo: 'rejected', call_keep: 'applied', call_new: 'applied', call_preview: 'applied' };
    for (const [call, status] of Object.entries(ended)) {
      await again.locator(`.tool[data-call-id="${call}"] .edit-${status}`).waitFor({ state: 'attached' });
    }
    assert.equal(await again.locator('.edit-proposed').count(), 0, 'no edit is left "waiting for your review"');
    assert.match((await again.locator('.tool[data-call-id="call_edit"] .edit-status').textContent()) ?? '', /^partly applied: /);
    await until(async () => /context \d/.test((await again.locator('#status').textContent()) ?? ''), 'the context size after the restore');
    await shootSidebar('e2e-restored.png');
    mark('restored after the reload');
  } catch (error) {
    await failWith('the approval / stop / reload run failed', error);
  }
});

test('Add File to Chat inserts the selection; Resume Session lists the session; chats are tabs; a pasted image reaches the model', { timeout: 300_000 }, async () => {
  try {
    await page.locator('.tab', { hasText: 'app.py' }).first().click();
    const editor = page.locator('.editor-instance .monaco-editor .view-lines').first();
    await editor.click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+ArrowDown');
    await runCommand('Yoi: Add File to Chat');
    const chat = chatFrame();
    const input = chat.getByRole('textbox', { name: 'Message yoi' });
    await until(async () => (await input.inputValue()) === '@app.py:1-2 ', 'the selection as @app.py:1-2 in the chat input');
    await input.fill('');

    // A knowledge record's inline action adds it as a #slug reference.
    const record = page.locator('.monaco-list-row', { hasText: 'Naming conventions' });
    await record.hover();
    await record.getByRole('button', { name: 'Add Knowledge to Chat' }).click();
    await until(async () => (await input.inputValue()) === '#naming ', 'the knowledge reference #naming in the chat input');
    await input.fill('');

    await runCommand('Yoi: Resume Session');
    // (the one open in a chat: a server may also list an older session of the same title, e.g. a fork)
    const session = page.locator('.quick-input-list .monaco-list-row', { hasText: 'please fix @app.py now' }).filter({ hasText: 'open in a chat' });
    await session.waitFor({ timeout: 60_000 });
    assert.match((await session.innerText()).replace(/\u00a0/g, ' '), /turns · .*open in a chat/s);
    await shoot('e2e-resume.png');
    mark('sessions listed');
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'New Chat' }).first().click();
    const tabs = chat.getByRole('tab');
    await chat.getByRole('tab', { name: 'please fix @app.py now' }).waitFor({ timeout: 60_000 });
    assert.equal(await tabs.count(), 2);
    assert.equal(await chat.locator('.entry').count(), 0, 'the new chat is empty');
    await chat.getByRole('tab', { name: 'please fix @app.py now' }).click();
    await chat.locator('.entry.assistant', { hasText: 'The command printed thirty lines.' }).waitFor({ timeout: 60_000 });

    // An image pasted into the chat box: a chip with its thumbnail, and an image part for the model.
    await loadScript([{ text: 'A single red pixel.' }]);
    const box = chat.getByRole('textbox', { name: 'Message yoi' });
    await box.evaluate((el, b64) => {
      const data = new DataTransfer();
      data.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'image.png', { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, PNG_B64);
    await chat.locator('#attachments .attachment img.attachment-thumb').waitFor();
    await say('what is in this picture?');
    await chat.locator('.entry.assistant', { hasText: 'A single red pixel.' }).waitFor({ timeout: 60_000 });
    await chat.locator('.entry.user .chip-image img.chip-thumb').waitFor();
    assert.deepEqual(await imagesSent(), [[`data:image/png;base64,${PNG_B64}`]]);
    await shootSidebar('e2e-image.png');
    mark('a pasted image reached the model');
  } catch (error) {
    await failWith('the commands run failed', error);
  }
});

test('a long session resumes at its end and loads earlier pages as the user scrolls up; Extract Memory, Consolidate Memory and Compact Now', { timeout: 300_000 }, async () => {
  try {
    writeLongSession('e2e-long', 120); // 480 history items: pages of 200, 200 and 80
    const decision = { options: ['long answers', 'short answers'], chosen: 'short answers', rationale: 'the same question 120 times' };
    const record = {
      kind: 'decision',
      slug: 'answer-briefly',
      frontmatter: { status: 'open', sources: [{ session_id: 'e2e-long', range: [0, 10] }] },
      body: '# Answer briefly\n\nShort answers: the same question 120 times.\n',
    };
    await loadScript([
      { tool_calls: [{ name: 'write_extracted', arguments: { decisions: [decision] } }] },
      { text: 'done' },
      { tool_calls: [{ name: 'memory_write', arguments: record }] },
      { text: 'Folded one entry: a decision to answer briefly.' },
      // (the compaction: everything was extracted and consolidated already, so only the summary)
      { tool_calls: [{ name: 'write_summary', arguments: { text: '## Completed Tasks\nAnswered 120 questions.' } }] },
      { text: 'done' },
    ]);
    await runCommand('Yoi: Resume Session');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'a long conversation' }).first().click();
    const chat = chatFrame();
    const question = (n: number): ReturnType<typeof chat.locator> => chat.locator('.entry.user .user-text', { hasText: new RegExp(`^question ${n}$`) });
    await chat.locator('.entry.assistant', { hasText: 'answer 119:' }).waitFor({ timeout: 60_000 });
    await question(70).waitFor({ state: 'attached' });
    assert.equal(await question(69).count(), 0, 'only the last page is loaded');
    assert.equal(await chat.locator('.entry.user').count(), 50);
    mark('the last page of a long session');

    // To the top: the page before arrives above, and what was in view stays in place.
    const transcript = chat.locator('#transcript');
    const before = await transcript.evaluate((el) => {
      el.scrollTo({ top: 0 }); // (measured at once: the page arrives later)
      const q = Array.from(el.querySelectorAll('.entry.user .user-text')).find((e) => e.textContent === 'question 70');
      return q?.getBoundingClientRect().top ?? Number.NaN;
    });
    await question(20).waitFor({ state: 'attached', timeout: 60_000 });
    const after = await question(70).evaluate((el) => el.getBoundingClientRect().top);
    assert.ok(Math.abs(after - before) <= 2, `question 70 stayed in place (${before} → ${after})`);
    await shootSidebar('e2e-history-page.png');
    await transcript.evaluate((el) => el.scrollTo({ top: 0 }));
    await chat.locator('.entry.user .user-text', { hasText: /^a long conversation$/ }).waitFor({ state: 'attached', timeout: 60_000 });
    assert.equal(await chat.locator('.entry.user').count(), 120);
    assert.equal(await chat.locator('.older').count(), 0, 'the whole history is loaded');
    mark('earlier pages loaded on scroll');

    // Extract Memory stages what the chat decided; the memory view counts it; Consolidate Memory folds it into a record.
    await runCommand('Yoi: Extract Memory');
    await told(/Extracted entries 0–\d+ of this conversation/);
    await page.locator('.monaco-list-row', { hasText: '1 extraction waits to be consolidated' }).waitFor({ timeout: 60_000 });
    await runCommand('Yoi: Consolidate Memory');
    await told('Consolidated 1 extraction into memory: Folded one entry');
    await page.locator('.monaco-list-row', { hasText: 'Answer briefly' }).waitFor({ timeout: 60_000 });
    await page.locator('.monaco-list-row', { hasText: 'extraction waits' }).waitFor({ state: 'detached' }); // the staged entry was consumed
    await shoot('e2e-memory.png');
    mark('memory extracted and consolidated');

    // Compact Now: the chat says it, and goes on in the compacted session.
    await runCommand('Yoi: Compact Now');
    await chat.locator('.notice', { hasText: 'Context compacted; the conversation continues in a new session.' }).waitFor({ timeout: 60_000 });
    await page.locator('.notification-toast', { hasText: 'Context compacted: the chat goes on in a new session' }).waitFor({ timeout: 60_000 });
    await chat.locator('#activity').waitFor({ state: 'hidden' });
    await shoot('e2e-compacted.png');
    mark('compacted on demand');
  } catch (error) {
    await failWith('the long session run failed', error);
  }
});

test('an interpreter without yoi gives one actionable message', { timeout: 300_000 }, async () => {
  try {
    // python3 from PATH, bare: no yoi, or not what yoi needs (the repository's virtualenv has both).
    writeMachineSettings('python3');
    await new Promise((r) => setTimeout(r, 1500)); // VS Code reads the changed settings file
    await runCommand('Yoi: Restart Server');
    const toast = page.locator('.notification-toast', { hasText: 'yoi cannot start' });
    await toast.waitFor({ timeout: 60_000 });
    mark('the interpreter message is up');
    const said = (await toast.innerText()).replace(/\u00a0/g, ' ');
    assert.match(said, /the interpreter from the setting yoi\.server\.python \(python3\)/, 'which interpreter');
    assert.ok(said.includes(`(run in ${ws})`), `the folder the server runs in: ${said}`);
    // (yoi itself, or — with a checkout on PYTHONPATH — the packages it needs)
    assert.match(said, /the yoi package is not installed|what it needs is not installed: \S+/, 'what is missing');
    assert.match(said, /Fix: run `python3 -m pip install yoi`/, 'the command that fixes it');
    await toast.getByRole('button', { name: 'Copy Fix Command' }).waitFor();
    // The chat says the same when asked to do something.
    await say('hello?');
    await chatFrame().locator('.notice-error', { hasText: 'yoi cannot start with the interpreter from the setting' }).waitFor({ timeout: 60_000 });
    await shoot('e2e-interpreter.png');
  } catch (error) {
    await failWith('the interpreter run failed', error);
  }
});
