/**
 * The end-to-end harness: one code-server (VS Code in the browser) on
 * 127.0.0.1 with out/yoi.vsix installed, the real yoi server and the scripted
 * model, driven through headless Chromium — started once for the whole suite.
 *
 * Needs: `make vscode-e2e-deps` (Node 24 and code-server under the cache),
 * out/yoi.vsix, and the repository's .venv. Paths come from the environment
 * the make target sets (YOI_CODE_SERVER, YOI_NODE24, YOI_PYTHON).
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Browser, Frame, FrameLocator, Page } from 'playwright-core';
import { launchChromium, screenshotPath } from '../support/chromium';

const extensionDir = process.cwd();
const repo = resolve(extensionDir, '..');
const NODE24 = process.env['YOI_NODE24'] ?? '';
const CODE_SERVER = process.env['YOI_CODE_SERVER'] ?? '';
export const PYTHON = process.env['YOI_PYTHON'] ?? join(repo, '.venv', 'bin', 'python');
const VSIX = join(extensionDir, 'out', 'yoi.vsix');

export const ORIGINAL = 'def main():\n    return 1\n\n\ndef other():\n    return 3\n';

const root = mkdtempSync(join(tmpdir(), 'yoi-e2e-'));
export const ws = join(root, 'ws');
const userData = join(root, 'user-data');
const children: ChildProcess[] = [];
let browser: Browser | undefined;
let logs = '';
let modelUrl = '';
export let page: Page;

const USER_SETTINGS: Record<string, unknown> = {
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
  // memory lives where the manifest says (the tree must not read the default folder)
  mkdirSync(join(ws, 'notes', 'memory', 'decisions'), { recursive: true });
  mkdirSync(join(ws, '.yoi', 'memory', 'decisions'), { recursive: true });
  writeFileSync(join(ws, '.yoi', 'manifest.toml'), '[memory]\nmemory_dir = "notes/memory"\n');
  writeFileSync(join(ws, 'app.py'), ORIGINAL);
  writeFileSync(
    join(ws, '.yoi', 'knowledge', 'naming.md'),
    '---\ndescription: How we name things\nmodel_invocation: true\nuser_invocable: true\ncreated_at: 2026-11-25T00:00:00Z\nupdated_at: 2026-11-25T00:00:00Z\nlast_sources: []\n---\n# Naming conventions\n\nkebab-case file names.\n',
  );
  writeFileSync(
    join(ws, 'notes', 'memory', 'decisions', 'use-spaces.md'),
    '---\nstatus: open\ncreated_at: 2026-11-25T00:00:00Z\nupdated_at: 2026-11-25T00:00:00Z\nsources: []\n---\n# Indent with four spaces\n\nTabs or spaces: spaces, four.\n',
  );
  writeFileSync(join(ws, '.yoi', 'memory', 'decisions', 'decoy.md'), '---\nstatus: open\nsources: []\n---\n# Decoy from the default folder\n');
}

/**
 * A stored session of `turns` turns (a question, a read_file call and its
 * result, an answer: 4 history items each), written by yoi's own store into
 * the server's YOI_HOME, as if an earlier window had run it.
 */
export function writeLongSession(sessionId: string, turns: number): void {
  const script = `
import sys
from pathlib import Path
from agent import items
from agent.segments import TextSegment
from agent.store import ItemsEntry, LlmUsage, RunCompleted, SessionStart, SessionStore, TurnEnd, UserInput
store = SessionStore(Path(sys.argv[1]))
head = store.create(sys.argv[2], SessionStart(system_prompt="sys", cwd=sys.argv[4]))
batch = []
for n in range(int(sys.argv[3])):
    text = "a long conversation" if n == 0 else f"question {n}"
    call = items.ToolCall(call_id=f"long_{n}", name="read_file", arguments='{"path": "app.py"}')
    result = items.ToolResult(call_id=f"long_{n}", name="read_file", summary=f"Read app.py ({n})", content="def main():\\n    return 1\\n")
    batch += [
        UserInput(segments=[TextSegment(kind="text", text=text)], text=text),
        ItemsEntry(items=[call, result]),
        LlmUsage(history_len=4 * n + 3, input_tokens=300 + 80 * n),
        ItemsEntry(items=[items.assistant(f"answer {n}: " + "the same thing again, " * 8)]),
        TurnEnd(turn_count=n + 1),
        RunCompleted(outcome="finished"),
    ]
store.append(sys.argv[2], head, batch)
`;
  const run = spawnSync(PYTHON, ['-c', script, join(root, 'yoi-home', 'sessions'), sessionId, String(turns), ws], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: repo },
  });
  assert.equal(run.status, 0, `writing the long session failed:\n${run.stderr}`);
}

/** The user's settings (VS Code picks up a change of the file while it runs). */
export function writeUserSettings(extra: Record<string, unknown> = {}): void {
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({ ...USER_SETTINGS, ...extra }, null, 2));
}

/** The workspace's .vscode/settings.json (VS Code watches it, and applies a change at once). */
export function writeWorkspaceSettings(settings: Record<string, unknown>): void {
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(join(ws, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
}

/**
 * yoi.server.python is machine-overridable: in code-server it belongs to the remote
 * ("Machine") settings, where VS Code reads machine-scoped settings in a remote window.
 */
export function writeMachineSettings(python: string): void {
  mkdirSync(join(userData, 'Machine'), { recursive: true });
  writeFileSync(join(userData, 'Machine', 'settings.json'), JSON.stringify({ 'yoi.server.python': python }, null, 2));
}

/**
 * The venv's `mcp-server-time` as an MCP server of the workspace manifest, and
 * the workspace trusted in the user manifest (servers a repository declares
 * start only then).
 */
function writeMcpServer(): void {
  const server = join(dirname(PYTHON), 'mcp-server-time');
  const entry = `\n[mcp.servers.time]\ncommand = ${JSON.stringify(server)}\nargs = ["--local-timezone", "UTC"]\n`;
  writeFileSync(join(ws, '.yoi', 'manifest.toml'), '[memory]\nmemory_dir = "notes/memory"\n' + entry);
  mkdirSync(join(root, 'yoi-config'), { recursive: true });
  writeFileSync(join(root, 'yoi-config', 'manifest.toml'), `[trust]\nworkspaces = [${JSON.stringify(ws)}]\n`);
}

/**
 * Start everything; `mcp`: with the time MCP server in the workspace manifest;
 * `userManifest`: TOML for the user manifest (the server's YOI_CONFIG_DIR), e.g. prices and a budget.
 */
export async function startAll(script: unknown[], options: { mcp?: boolean; userManifest?: string } = {}): Promise<void> {
  assert.ok(NODE24 !== '' && CODE_SERVER !== '', 'run through `make vscode-e2e` (it installs Node 24 and code-server)');
  writeWorkspace();
  // the settings file exists from the start: VS Code applies a change to a
  // watched file at once, but one made in a folder created later may be seen
  // seconds later (a review then went to the editor, not the Refactor Preview)
  writeWorkspaceSettings({});
  if (options.mcp === true) {
    writeMcpServer();
  }
  if (options.userManifest !== undefined) {
    const manifest = join(root, 'yoi-config', 'manifest.toml');
    mkdirSync(dirname(manifest), { recursive: true });
    writeFileSync(manifest, `${existsSync(manifest) ? readFileSync(manifest, 'utf8') : ''}\n${options.userManifest}`);
  }
  const extensions = join(root, 'extensions');
  writeUserSettings();
  writeMachineSettings(PYTHON);
  const scriptFile = join(root, 'script.json');
  writeFileSync(scriptFile, JSON.stringify(script));

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
    YOI_SHARED_MODEL: '0', // a private model process that dies with the server
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
  // The machine may be busy (2 cores shared with other test runs): wait longer than Playwright's 30 s.
  page.setDefaultTimeout(60_000);
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  mark('code-server and the workbench are up');
}

export async function stopAll(): Promise<void> {
  await browser?.close().catch(() => undefined);
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
}

export function chatFrame(): FrameLocator {
  return page.frameLocator('iframe.webview').frameLocator('#active-frame');
}

/** The Context panel's page (`Yoi: Show Context`), once it is loaded. */
export async function contextDocument(): Promise<Frame> {
  let found: Frame | undefined;
  await until(async () => {
    for (const frame of page.frames()) {
      if ((await frame.locator('#context-groups').count().catch(() => 0)) > 0) {
        found = frame;
        return true;
      }
    }
    return false;
  }, 'the Context page');
  assert.ok(found !== undefined);
  return found;
}

/** The chat page's own frame, to watch its DOM from inside. */
export async function chatDocument(): Promise<Frame> {
  for (const frame of page.frames()) {
    if ((await frame.locator('textarea#input').count().catch(() => 0)) > 0) {
      return frame;
    }
  }
  throw new Error('the chat page is not loaded');
}

export async function editorText(): Promise<string> {
  const text = await page.locator('.editor-instance .monaco-editor .view-lines').first().innerText();
  return text.replace(/\u00a0/g, ' '); // Monaco renders spaces as &nbsp;
}

/** Wait until the active editor shows text matching. */
export async function editorShows(pattern: RegExp, timeout = 60_000): Promise<void> {
  await until(async () => pattern.test(await editorText().catch(() => '')), `the editor to show ${String(pattern)}`, timeout);
}

let failures = 0;
let lastMark = Date.now();

/** Say where the time goes: one line per step with the seconds since the last one. */
export function mark(step: string): void {
  const now = Date.now();
  process.stdout.write(`e2e ${((now - lastMark) / 1000).toFixed(1)}s  ${step}\n`);
  lastMark = now;
}

export async function failWith(what: string, error: unknown): Promise<never> {
  failures += 1;
  await page.screenshot({ path: screenshotPath(`e2e-failure-${failures}.png`) }).catch(() => undefined);
  throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}\n--- processes ---\n${logs.slice(-3000)}`);
}

/** The tool result the model received for a call (from the scripted model's record). */
export async function toolMessage(callId: string): Promise<string> {
  const requests = (await (await fetch(`${modelUrl}/_script/requests`)).json()) as { messages: { role: string; tool_call_id?: string; content?: string }[] }[];
  for (const request of requests) {
    const found = request.messages.find((m) => m.role === 'tool' && m.tool_call_id === callId);
    if (found !== undefined) {
      return found.content ?? '';
    }
  }
  return '(none yet)';
}

/** A request the scripted model received: its model, its messages and the tools it offered. */
export interface ModelRequest {
  model: string;
  messages: { role: string; content?: unknown }[];
  tools?: { function: { name: string } }[];
}

/** Every request the scripted model received so far, oldest first. */
export async function modelRequests(): Promise<ModelRequest[]> {
  return (await (await fetch(`${modelUrl}/_script/requests`)).json()) as ModelRequest[];
}

/** The image URLs each request to the scripted model carried (its `image_url` content parts). */
export async function imagesSent(): Promise<string[][]> {
  const requests = (await (await fetch(`${modelUrl}/_script/requests`)).json()) as { messages: { content?: unknown }[] }[];
  return requests.map((request) =>
    request.messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as { type?: string; image_url?: { url?: string } }[]) : []).filter((p) => p.type === 'image_url').map((p) => p.image_url?.url ?? '')),
  );
}

/** Wait for the model to have been told the result of a call, and return it. */
export async function toldModel(callId: string, pattern: RegExp): Promise<string> {
  let said = '';
  await until(async () => pattern.test((said = await toolMessage(callId))), `the model to be told ${String(pattern)} for ${callId} (so far: ${said})`);
  return said;
}

export async function loadScript(steps: unknown[]): Promise<void> {
  const response = await fetch(`${modelUrl}/_script`, { method: 'POST', body: JSON.stringify(steps) });
  assert.equal(response.status, 200);
}

/** Poll a condition the page cannot wait for itself (state inside the webview's frames). */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runCommand(title: string): Promise<void> {
  // The palette closes when anything takes the focus while it opens (in fresh
  // clones it sometimes came up inert, then closed, for up to about 30 s): a
  // user would press F1 again, and so does this, three times at most.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.locator('.tab', { hasText: 'app.py' }).first().click(); // F1 belongs to the workbench, not the webview
      // the click moves the focus to the editor a moment later; a palette opened
      // before that loses the focus to it and closes (seen as "inert")
      await page.waitForTimeout(attempt === 1 ? 300 : 1_000);
      await page.keyboard.press('F1');
      const box = page.locator('.quick-input-widget input');
      await box.waitFor({ timeout: 15_000 });
      await box.fill(`>${title}`, { timeout: 15_000 });
      await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15_000 });
      await box.press('Enter', { timeout: 15_000 });
      return;
    } catch (error) {
      if (attempt === 4) {
        throw error;
      }
      mark(`the command palette did not take "${title}" (attempt ${attempt}); again`);
      await page.keyboard.press('Escape');
    }
  }
}

/**
 * The user was told `text`: as a toast, or, when that went by unseen (VS Code
 * hides toasts, and stacks them under newer ones), in the notification center.
 */
export async function told(text: string | RegExp, timeout = 60_000): Promise<void> {
  try {
    await page.locator('.notification-toast', { hasText: text }).waitFor({ timeout });
    return;
  } catch {
    // not as a toast: look where every notification stays
  }
  await runCommand('Notifications: Show Notifications');
  await page.locator('.notifications-center .monaco-list-row', { hasText: text }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.locator('.notifications-center').waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Type a message into the chat and send it. */
export async function say(text: string): Promise<void> {
  const input = chatFrame().getByRole('textbox', { name: 'Message yoi' });
  await input.click();
  await input.pressSequentially(text);
  await input.press('Enter');
}

/** The sidebar as the user sees it (the webview overlays it), without a hover tooltip. */
export async function shootSidebar(name: string): Promise<void> {
  await page.mouse.move(800, 600);
  await page.locator('.part.sidebar').screenshot({ path: screenshotPath(name) });
}

export async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: screenshotPath(name) });
}
