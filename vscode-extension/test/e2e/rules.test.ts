/**
 * End to end in a real VS Code (code-server), the real yoi server and the
 * scripted model: "Always allow in this workspace" on a command's approval
 * makes a rule (kept in the user's yoi config, not the repository), so a New
 * Chat's `echo again` runs without asking; `Yoi: Manage Approval Rules` lists
 * the rule and revokes it after a confirmation. Then a workspace manifest that
 * turns approvals off is ignored (untrusted): the warning offers "Trust This
 * Workspace…", which asks in a modal and trusts; a New Chat then runs its
 * command without asking.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { chatFrame, failWith, mark, page, runCommand, say, shootSidebar, shoot, startAll, stopAll, told, toldModel, until, ws } from './harness';

const configDir = join(dirname(ws), 'yoi-config');

before(async () => {
  await startAll([
    { tool_calls: [{ name: 'run_command', arguments: { command: 'echo hi' }, id: 'call_hi' }] },
    { text: 'It said hi.' },
    { tool_calls: [{ name: 'run_command', arguments: { command: 'echo again' }, id: 'call_again' }] },
    { text: 'It said again.' },
    { tool_calls: [{ name: 'run_command', arguments: { command: 'echo untrusted' }, id: 'call_untrusted' }] },
    { text: 'Not run.' },
    { tool_calls: [{ name: 'run_command', arguments: { command: 'echo trusted' }, id: 'call_trusted' }] },
    { text: 'Ran it trusted.' },
  ]);
});

after(async () => {
  await stopAll();
});

async function newChat(): Promise<void> {
  await runCommand('Yoi: New Chat');
  await chatFrame().locator('#transcript .entry').first().waitFor({ state: 'detached', timeout: 30_000 });
}

const quickRows = (): ReturnType<typeof page.locator> => page.locator('.quick-input-list .monaco-list-row');

test('Always allow in this workspace: a New Chat is not asked; Manage Approval Rules lists the rule and revokes it', { timeout: 300_000 }, async () => {
  try {
    const file = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'app.py' }).first();
    await file.waitFor({ timeout: 60_000 });
    await file.dblclick(); // the command palette is opened from the editor
    await page.locator('.tab', { hasText: 'app.py' }).first().waitFor();
    await page.locator('.activitybar a.action-label[aria-label="yoi"]').click();
    const chat = chatFrame();
    await chat.getByRole('textbox', { name: 'Message yoi' }).waitFor({ timeout: 60_000 });

    await say('say hi');
    const approval = chat.locator('.tool[data-call-id="call_hi"] .approval');
    await approval.waitFor({ timeout: 60_000 });
    assert.deepEqual(await approval.getByRole('button').allInnerTexts(), ['Allow', 'Allow for this Session', 'Always allow in this workspace', 'Deny']);
    await shootSidebar('e2e-approval-always.png');
    await approval.getByRole('button', { name: 'Always allow in this workspace' }).click();
    await approval.waitFor({ state: 'detached' });
    assert.doesNotMatch(await toldModel('call_hi', /hi/), /denied/i);
    await chat.locator('.entry.assistant', { hasText: 'It said hi.' }).waitFor({ timeout: 60_000 });
    // the rule is the user's, kept for this workspace, not in the repository
    const saved = JSON.parse(readFileSync(join(configDir, 'approvals.json'), 'utf8')) as { workspaces: Record<string, { key: string; label: string }[]> };
    assert.deepEqual(
      Object.values(saved.workspaces).flat().map((r) => [r.key, r.label]),
      [['run_command:echo', 'echo hi']],
    );
    assert.equal(existsSync(join(ws, '.yoi', 'approvals.json')), false);
    mark('allowed always; the rule is saved in the user config');

    // A New Chat (a new pod and session) runs `echo again` without asking: the
    // turn would wait for an answer otherwise, and no approval shows.
    await chat.locator('#send:not([hidden])').waitFor({ timeout: 60_000 });
    await newChat();
    await say('say again');
    const again = chat.locator('.tool.tool-ok[data-call-id="call_again"]');
    await again.waitFor({ timeout: 60_000 });
    assert.equal(await chat.locator('.approval').count(), 0, 'not asked');
    assert.match(await toldModel('call_again', /again/), /again/);
    await chat.locator('.entry.assistant', { hasText: 'It said again.' }).waitFor({ timeout: 60_000 });
    mark('a new chat ran `echo again` without asking');

    // Manage Approval Rules: the rule, by what was allowed and its key.
    await runCommand('Yoi: Manage Approval Rules');
    const row = quickRows().filter({ hasText: 'echo hi' });
    await row.waitFor();
    assert.equal(await quickRows().count(), 1);
    assert.match(await row.innerText(), /run_command:echo/);
    await shoot('e2e-approval-rules.png');
    await row.click();
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Revoke the approval rule for "echo hi"?' });
    await dialog.locator('.monaco-button', { hasText: 'Revoke' }).click({ timeout: 60_000 });
    await told(/Revoked: yoi asks again before "echo hi" in this workspace/);
    const rulesLeft = (): number => Object.values((JSON.parse(readFileSync(join(configDir, 'approvals.json'), 'utf8')) as { workspaces: Record<string, unknown[]> }).workspaces).flat().length;
    await until(() => Promise.resolve(rulesLeft() === 0), 'the rule to be gone from approvals.json');
    await runCommand('Yoi: Manage Approval Rules');
    await told(/This workspace has no approval rules/);
    mark('Manage Approval Rules listed the rule and revoked it');
  } catch (error) {
    await failWith('the approval rules run failed', error);
  }
});

test('an ignored workspace manifest key offers Trust This Workspace…; trusted, a New Chat takes the manifest whole', { timeout: 300_000 }, async () => {
  try {
    const chat = chatFrame();
    writeFileSync(join(ws, '.yoi', 'manifest.toml'), '[memory]\nmemory_dir = "notes/memory"\n\n[approvals]\nmode = "auto"\n');
    await newChat();
    await say('say untrusted');
    // untrusted, `mode = "auto"` is ignored: still asked, and the warning offers to trust
    const approval = chat.locator('.tool[data-call-id="call_untrusted"] .approval');
    await approval.waitFor({ timeout: 60_000 });
    await chat.locator('.entry.notice', { hasText: /approvals\.mode: mode = "auto" was ignored/ }).waitFor({ timeout: 60_000 });
    const offer = page.locator('.notification-toast', { hasText: /ignored parts of this workspace's \.yoi\/manifest\.toml/ });
    await offer.locator('.monaco-button', { hasText: 'Trust This Workspace…' }).click({ timeout: 60_000 });
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Trust this workspace?' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /take its \.yoi\/manifest\.toml whole[\s\S]*allow commands to run without asking, run hooks/);
    await shoot('e2e-trust-workspace.png');
    await dialog.locator('.monaco-button', { hasText: /^Trust$/ }).click();
    await told(/new chats take its \.yoi\/manifest\.toml whole/);
    const trusted = JSON.parse(readFileSync(join(configDir, 'trusted-workspaces.json'), 'utf8')) as { workspaces: string[] };
    assert.deepEqual(trusted.workspaces, [realpathSync(ws)]);
    // the open chat's pod was built untrusted: its question still waits
    await approval.getByRole('button', { name: 'Deny' }).click();
    await chat.locator('.entry.assistant', { hasText: 'Not run.' }).waitFor({ timeout: 60_000 });
    await chat.locator('#send:not([hidden])').waitFor({ timeout: 60_000 });
    mark('the warning offered trust; trusted after the modal');

    // a New Chat takes the manifest whole: mode = "auto", nothing asked
    await newChat();
    await say('say trusted');
    await chat.locator('.tool.tool-ok[data-call-id="call_trusted"]').waitFor({ timeout: 60_000 });
    assert.equal(await chat.locator('.approval').count(), 0, 'not asked');
    assert.match(await toldModel('call_trusted', /trusted/), /trusted/);
    mark('a new chat in the trusted workspace ran its command without asking');
  } catch (error) {
    await failWith('the trust run failed', error);
  }
});
