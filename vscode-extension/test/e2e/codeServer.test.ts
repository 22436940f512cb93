/**
 * End to end in a real VS Code: code-server (VS Code 1.139 in the browser) on
 * 127.0.0.1 with out/yoi.vsix installed, the real yoi server and the scripted
 * model, driven through headless Chromium.
 *
 * Needs: `make vscode-e2e-deps` (Node 24 and code-server under the cache),
 * out/yoi.vsix, and the repository's .venv. Paths come from the environment
 * the make target sets (YOI_CODE_SERVER, YOI_NODE24, YOI_PYTHON).
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { launchChromium, screenshotPath } from '../support/chromium';

const extensionDir = process.cwd();
const repo = resolve(extensionDir, '..');
const NODE24 = process.env['YOI_NODE24'] ?? '';
const CODE_SERVER = process.env['YOI_CODE_SERVER'] ?? '';
const PYTHON = process.env['YOI_PYTHON'] ?? join(repo, '.venv', 'bin', 'python');
const VSIX = join(extensionDir, 'out', 'yoi.vsix');

const ORIGINAL = 'def main():\n    return 1\n\n\ndef other():\n    return 3\n';
const SCRIPT = [
  { tool_calls: [{ name: 'read_file', arguments: { path: 'app.py' }, id: 'call_read' }] },
  {
    // one call, two hunks: the Refactor Preview lists two changes
    tool_calls: [
      {
        name: 'edit_file',
        arguments: { path: 'app.py', old_string: 'return 1\n\n\ndef other():\n    return 3', new_string: 'return 2\n\n\ndef other():\n    return 4' },
        id: 'call_edit',
      },
    ],
  },
  {
    text: 'I changed `main()` to **return 2**:\n\n```python\ndef main():\n    return 2\n```\n\nYour unsaved note is kept.',
    chunk_size: 4,
    chunk_delay_ms: 60,
  },
];

const root = mkdtempSync(join(tmpdir(), 'yoi-e2e-'));
const ws = join(root, 'ws');
const children: ChildProcess[] = [];
let browser: Browser;
let page: Page;
let logs = '';
let modelUrl = '';

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => {
        done(port);
      });
    });
  });
}

/** Start a process in its own group and resolve with the first stdout line matching. */
function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<string> {
  const child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      fail(new Error(`${command} did not print ${String(ready)} within 60 s:\n${logs.slice(-2000)}`));
    }, 60_000);
    const onData = (data: Buffer): void => {
      logs += data.toString();
      const match = ready.exec(logs);
      if (match !== null) {
        clearTimeout(timer);
        done(match[1] ?? match[0]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${command} exited (${String(code)}):\n${logs.slice(-2000)}`));
    });
  });
}

function writeWorkspace(): void {
  mkdirSync(join(ws, '.yoi', 'knowledge'), { recursive: true });
  mkdirSync(join(ws, '.yoi', 'memory', 'decisions'), { recursive: true });
  writeFileSync(join(ws, 'app.py'), ORIGINAL);
  writeFileSync(
    join(ws, '.yoi', 'knowledge', 'naming.md'),
    '---\ndescription: How we name things\nmodel_invocation: true\nuser_invocable: true\ncreated_at: 2026-11-25T00:00:00Z\nupdated_at: 2026-11-25T00:00:00Z\nlast_sources: []\n---\n# Naming conventions\n\nkebab-case file names.\n',
  );
  writeFileSync(
    join(ws, '.yoi', 'memory', 'decisions', 'use-spaces.md'),
    '---\nstatus: open\ndescription: Tabs or spaces\nsources: []\n---\n# Indent with four spaces\n',
  );
}

function writeUserSettings(userData: string): void {
  mkdirSync(join(userData, 'User'), { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.colorTheme': 'Default Dark Modern',
    'window.autoDetectColorScheme': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'chat.disableAIFeatures': true,
    'files.hotExit': 'off',
    'files.autoSave': 'off',
  };
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // yoi.server.python is machine-overridable: in code-server it belongs to the remote
  // ("Machine") settings, where VS Code reads machine-scoped settings in a remote window.
  mkdirSync(join(userData, 'Machine'), { recursive: true });
  writeFileSync(join(userData, 'Machine', 'settings.json'), JSON.stringify({ 'yoi.server.python': PYTHON }, null, 2));
}

before(async () => {
  assert.ok(NODE24 !== '' && CODE_SERVER !== '', 'run through `make vscode-e2e` (it installs Node 24 and code-server)');
  writeWorkspace();
  const userData = join(root, 'user-data');
  const extensions = join(root, 'extensions');
  writeUserSettings(userData);
  const scriptFile = join(root, 'script.json');
  writeFileSync(scriptFile, JSON.stringify(SCRIPT));

  const install = spawnSync(NODE24, [CODE_SERVER, '--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', VSIX], { encoding: 'utf8' });
  assert.equal(install.status, 0, `installing the .vsix failed:\n${install.stdout}\n${install.stderr}`);

  const baseUrl = await startProcess(PYTHON, ['-m', 'agent.testing', '--script', scriptFile], { ...process.env, PYTHONPATH: repo }, /READY (\S+)/);
  modelUrl = baseUrl.replace(/\/v1$/, '');
  const port = await freePort();
  const env = {
    ...process.env,
    YOI_MODEL: 'openai/scripted',
    YOI_API_BASE: baseUrl,
    YOI_API_KEY: 'test-key',
    YOI_HOME: join(root, 'yoi-home'),
    YOI_CONFIG_DIR: join(root, 'yoi-config'),
    LITELLM_LOCAL_MODEL_COST_MAP: 'True',
  };
  writeFileSync(join(root, 'code-server.yaml'), '');
  await startProcess(
    NODE24,
    [
      CODE_SERVER,
      '--config', join(root, 'code-server.yaml'),
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-workspace-trust',
      '--disable-telemetry',
      '--disable-update-check',
      '--user-data-dir', userData,
      '--extensions-dir', extensions,
    ],
    env,
    /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
});

after(async () => {
  await browser.close().catch(() => undefined);
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  rmSync(root, { recursive: true, force: true });
});

function chatFrame(): FrameLocator {
  return page.frameLocator('iframe.webview').frameLocator('#active-frame');
}

async function editorText(): Promise<string> {
  const text = await page.locator('.editor-instance .monaco-editor .view-lines').first().innerText();
  return text.replace(/\u00a0/g, ' '); // Monaco renders spaces as &nbsp;
}

async function failWith(what: string, error: unknown): Promise<never> {
  await page.screenshot({ path: screenshotPath('e2e-failure.png') }).catch(() => undefined);
  throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}\n--- processes ---\n${logs.slice(-3000)}`);
}

test('chat about an unsaved buffer, review the edit, open a knowledge record', { timeout: 300_000 }, async () => {
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

    // Chat with an @ reference picked from the list (open editors first).
    await page.locator('.activitybar a.action-label[aria-label="yoi"]').click();
    const chat = chatFrame();
    const input = chat.getByRole('textbox', { name: 'Message yoi' });
    await input.waitFor({ timeout: 60_000 });
    await input.click();
    await input.pressSequentially('please fix @ap');
    const option = chat.getByRole('option').first();
    await option.waitFor({ timeout: 60_000 });
    assert.equal(await option.locator('.picker-label').textContent(), 'app.py');
    assert.equal(await option.locator('.picker-badge').textContent(), 'open');
    await input.press('Enter');
    await input.pressSequentially('now');
    await input.press('Enter');
    await chat.locator('.entry.user .chip', { hasText: 'app.py' }).waitFor();

    // The read and the proposed edit show as tool rows; the edit opens the Refactor Preview.
    await chat.locator('details.tool.tool-ok', { hasText: 'read_file' }).waitFor({ timeout: 60_000 });
    const editRow = chat.locator('details.tool[data-call-id="call_edit"]');
    await editRow.locator('.tool-summary', { hasText: 'Refactor Preview' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Apply', exact: true }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('e2e-refactor-preview.png') });

    // Accept one of the two changes: tick it, leave the other unticked, then Apply.
    await page.locator('.monaco-list-row', { hasText: 'return 4' }).last().waitFor();
    const change = page.locator('.monaco-list-row', { hasText: 'return 2' }).last();
    await change.waitFor();
    const box = change.locator('.monaco-checkbox, input[type="checkbox"], .codicon-check').first();
    if ((await box.getAttribute('aria-checked')) !== 'true' && !(await box.isChecked().catch(() => false))) {
      await box.click();
    }
    await page.getByRole('button', { name: 'Apply', exact: true }).click();

    // The buffer changes (the unsaved note stays, nothing is written to disk).
    await page.waitForFunction(
      () => {
        const lines = document.querySelector('.editor-instance .monaco-editor .view-lines');
        return /return\s2/.test(lines?.textContent ?? ''); // Monaco renders spaces as &nbsp;
      },
      undefined,
      { timeout: 30_000 },
    );
    const text = await editorText();
    assert.match(text, /return 2/);
    assert.match(text, /return 3/, 'the unticked change was not applied');
    assert.match(text, /# unsaved note/);
    assert.equal(readFileSync(join(ws, 'app.py'), 'utf8'), ORIGINAL, 'the editor owns saving');
    // Only part of the edit was kept, so the model is told to read the file again.
    await until(async () => /only part of the change/.test(await toolMessage('call_edit')), 'the partial-edit message');

    // The reply streams in; the edit row shows the edit applied (in part) and the tool
    // result as failed, since the model must read the file again.
    await chat.locator('.entry.assistant .markdown.streaming').waitFor({ timeout: 30_000 });
    await chat.locator('.entry.assistant .markdown:not(.streaming) pre code.language-python').waitFor({ timeout: 30_000 });
    assert.equal(await chat.locator('.entry.assistant strong').textContent(), 'return 2');
    await editRow.locator('.edit-applied').waitFor({ state: 'attached' }); // inside the collapsed row
    assert.equal(await editRow.getAttribute('class'), 'entry tool tool-failed');
    await chat.locator('#send').waitFor({ state: 'visible' });
    const status = (await chat.locator('#status').textContent()) ?? '';
    assert.match(status, /openai\/scripted/);
    assert.match(status, /context \d/);
    await page.mouse.move(800, 600);
    await page.locator('.part.sidebar').screenshot({ path: screenshotPath('e2e-chat.png') }); // the webview overlays the sidebar

    // The knowledge view lists the record; opening it opens its file.
    const record = page.locator('.monaco-list-row', { hasText: 'Naming conventions' });
    await record.waitFor({ timeout: 30_000 });
    assert.match((await record.textContent()) ?? '', /in prompt/);
    await page.locator('.monaco-list-row', { hasText: 'Indent with four spaces' }).waitFor();
    await record.click();
    await page.locator('.tab', { hasText: 'naming.md' }).waitFor({ timeout: 30_000 });
    await page.locator('.editor-instance .monaco-editor .view-lines', { hasText: 'Naming conventions' }).waitFor();
    await page.screenshot({ path: screenshotPath('e2e-workbench.png') });
  } catch (error) {
    await failWith('the end-to-end run failed', error);
  }
});

/** The tool result the model received for a call (from the scripted model's record). */
async function toolMessage(callId: string): Promise<string> {
  const requests = (await (await fetch(`${modelUrl}/_script/requests`)).json()) as { messages: { role: string; tool_call_id?: string; content?: string }[] }[];
  for (const request of requests) {
    const found = request.messages.find((m) => m.role === 'tool' && m.tool_call_id === callId);
    if (found !== undefined) {
      return found.content ?? '';
    }
  }
  return '(none yet)';
}

async function loadScript(steps: unknown[]): Promise<void> {
  const response = await fetch(`${modelUrl}/_script`, { method: 'POST', body: JSON.stringify(steps) });
  assert.equal(response.status, 200);
}

test('a command asks first, Stop interrupts, and a reload restores the chat', { timeout: 300_000 }, async () => {
  try {
    await loadScript([
      { tool_calls: [{ name: 'run_command', arguments: { command: 'echo hello-from-yoi' }, id: 'call_cmd' }] },
      { text: 'The command printed hello-from-yoi.' },
      { hang: true, text: 'Let me think about' },
    ]);
    const chat = chatFrame();
    const input = chat.getByRole('textbox', { name: 'Message yoi' });
    await input.click();
    await input.pressSequentially('run the greeting');
    await input.press('Enter');

    // The approval is a modal naming the command and its working directory.
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    const said = (await dialog.innerText()).replace(/\u00a0/g, ' ');
    assert.match(said, /yoi wants to run: echo hello-from-yoi/);
    assert.ok(said.includes(`Working directory: ${ws}`), said);
    const buttons = (await dialog.getByRole('button').allInnerTexts()).filter((t) => t !== '').sort();
    assert.deepEqual(buttons, ['Allow', 'Allow for this Session', 'Deny'], 'three choices, no extra Cancel');
    await page.screenshot({ path: screenshotPath('e2e-approval.png') });
    await dialog.getByRole('button', { name: 'Allow', exact: true }).click();
    await chat.locator('details.tool.tool-ok[data-call-id="call_cmd"]').waitFor({ timeout: 60_000 });
    await chat.locator('.entry.assistant', { hasText: 'The command printed hello-from-yoi.' }).waitFor({ timeout: 30_000 });
    await chat.locator('#send').waitFor({ state: 'visible' });

    // A turn that hangs is stopped with the Stop button (yoi/pod/interrupt).
    await input.pressSequentially('and now?');
    await input.press('Enter');
    await chat.locator('.entry.assistant', { hasText: 'Let me think about' }).waitFor({ timeout: 30_000 });
    await chat.getByRole('button', { name: 'Stop' }).click();
    await chat.locator('.notice', { hasText: 'Stopped.' }).waitFor({ timeout: 30_000 });
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
    await again.locator('.entry.assistant', { hasText: 'The command printed hello-from-yoi.' }).waitFor({ timeout: 60_000 });
    await again.locator('.entry.user .chip', { hasText: 'app.py' }).waitFor();
    assert.equal(await again.locator('details.tool[data-call-id="call_edit"]').getAttribute('class'), 'entry tool tool-failed');
    await until(async () => /context \d/.test((await again.locator('#status').textContent()) ?? ''), 'the context size after the restore');
    await page.mouse.move(800, 600); // no hover tooltip in the picture
    await page.locator('.part.sidebar').screenshot({ path: screenshotPath('e2e-restored.png') });
  } catch (error) {
    await failWith('the approval / stop / reload run failed', error);
  }
});

/** Poll a condition the page cannot wait for itself (state inside the webview's frames). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runCommand(title: string): Promise<void> {
  await page.locator('.tab', { hasText: 'app.py' }).click(); // F1 belongs to the workbench, not the webview
  await page.keyboard.press('F1');
  const box = page.locator('.quick-input-widget input');
  await box.waitFor();
  await box.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await box.press('Enter');
}

test('Add File to Chat inserts the selection; Resume Session lists the session; chats are tabs', { timeout: 300_000 }, async () => {
  try {
    await page.locator('.tab', { hasText: 'app.py' }).click();
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
    const session = page.locator('.quick-input-list .monaco-list-row', { hasText: 'please fix @app.py now' });
    await session.waitFor({ timeout: 30_000 });
    assert.match((await session.innerText()).replace(/\u00a0/g, ' '), /turns · .*open in a chat/s);
    await page.screenshot({ path: screenshotPath('e2e-resume.png') });
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'New Chat' }).first().click();
    const tabs = chat.getByRole('tab');
    await chat.getByRole('tab', { name: 'please fix @app.py now' }).waitFor({ timeout: 30_000 });
    assert.equal(await tabs.count(), 2);
    assert.equal(await chat.locator('.entry').count(), 0, 'the new chat is empty');
    await chat.getByRole('tab', { name: 'please fix @app.py now' }).click();
    await chat.locator('.entry.assistant', { hasText: 'The command printed hello-from-yoi.' }).waitFor({ timeout: 30_000 });
  } catch (error) {
    await failWith('the commands run failed', error);
  }
});
