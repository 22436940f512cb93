/**
 * The chat webview: renders the host's ChatState snapshots and actions, and
 * sends the user's input, Stop and reference look-ups back to the host.
 */

import { emptyChat, formatTokens, reduce, type ChatState } from '../logic/chatState';
import type { ChatTab, HostMessage, WebviewMessage } from '../messages';
import type { ReferenceKind } from '../protocol';
import { byId, h, icon, textareaById } from './dom';
import { Picker } from './picker';
import { Transcript } from './transcript';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (message: WebviewMessage): void => vscode.postMessage(message);

const input = textareaById('input');
const sendButton = byId('send');
const stopButton = byId('stop');
const statusLine = byId('status');
const tabsBar = byId('tabs');
const empty = byId('empty');
const transcript = new Transcript(byId('transcript'));

let chatId = '';
let state: ChatState = emptyChat();
let references: { kind: ReferenceKind; value: string }[] = [];
let frame = 0;

const picker = new Picker(byId('picker'), input, {
  complete: (requestId, kind, prefix) => post({ type: 'complete', requestId, kind, prefix }),
  accepted: (kind, value) => references.push({ kind, value }),
});

function saveDraft(): void {
  vscode.setState({ draft: input.value, references });
}

function renderStatus(): void {
  const parts: string[] = [];
  if (state.model !== undefined) {
    parts.push(state.model);
  }
  if (state.contextTokens !== undefined) {
    parts.push(`context ${formatTokens(state.contextTokens)}`);
  }
  const t = state.totals;
  if (t.inputTokens + t.outputTokens > 0) {
    parts.push(`${formatTokens(t.inputTokens)} in · ${formatTokens(t.outputTokens)} out`);
  }
  if (state.compacting) {
    parts.push('compacting…');
  }
  statusLine.textContent = parts.join('  ·  ');
  statusLine.title =
    `Context: ${state.contextTokens ?? '?'} tokens (estimated size of the next request)\n` +
    `Used in this chat: ${t.inputTokens} input (${t.cacheReadTokens} from cache), ${t.outputTokens} output tokens`;
}

function render(): void {
  frame = 0;
  transcript.render(state.entries);
  empty.hidden = state.entries.length > 0;
  sendButton.hidden = state.running;
  stopButton.hidden = !state.running;
  renderStatus();
}

function schedule(): void {
  if (frame === 0) {
    frame = requestAnimationFrame(render);
  }
}

function renderTabs(tabs: ChatTab[], active: string): void {
  tabsBar.hidden = tabs.length < 2;
  tabsBar.replaceChildren(
    ...tabs.map((tab) =>
      h(
        'div',
        { class: tab.id === active ? 'tab active' : 'tab' },
        h('button', { type: 'button', role: 'tab', class: 'tab-label', 'aria-selected': tab.id === active ? 'true' : 'false', 'data-chat': tab.id, title: tab.title }, tab.title),
        h('button', { type: 'button', class: 'icon-button tab-close', 'aria-label': `Close ${tab.title}`, title: 'Close chat', 'data-close': tab.id }, icon('close')),
      ),
    ),
  );
}

function insert(text: string): void {
  const start = input.selectionStart;
  const before = input.value.slice(0, start);
  const after = input.value.slice(input.selectionEnd);
  const lead = before === '' || /\s$/.test(before) ? '' : ' ';
  const tail = after.startsWith(' ') ? '' : ' ';
  input.value = before + lead + text + tail + after;
  const caret = before.length + lead.length + text.length + tail.length;
  input.setSelectionRange(caret, caret);
  input.focus();
  autoGrow();
  saveDraft();
}

function autoGrow(): void {
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
}

function send(): void {
  const text = input.value.trim();
  if (text === '' || state.running) {
    return;
  }
  post({ type: 'send', text, references });
  input.value = '';
  references = [];
  picker.close();
  autoGrow();
  saveDraft();
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const message = e.data;
  switch (message.type) {
    case 'reset':
      chatId = message.chatId;
      state = message.state;
      renderTabs(message.tabs, message.chatId);
      render();
      break;
    case 'action':
      if (message.chatId === chatId) {
        state = reduce(state, message.action);
        schedule();
      }
      break;
    case 'tabs':
      renderTabs(message.tabs, message.active);
      break;
    case 'completions':
      picker.show(message.requestId, message.items);
      break;
    case 'insert':
      if (message.reference !== undefined) {
        references.push(message.reference);
      }
      insert(message.text);
      break;
    case 'focus':
      input.focus();
      break;
  }
});

input.addEventListener('keydown', (e) => {
  if (picker.key(e)) {
    e.preventDefault();
    return;
  }
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});
input.addEventListener('input', () => {
  autoGrow();
  picker.update();
  saveDraft();
});
input.addEventListener('click', () => picker.update());
input.addEventListener('blur', () => picker.close());
sendButton.addEventListener('click', send);
stopButton.addEventListener('click', () => post({ type: 'stop' }));

tabsBar.addEventListener('click', (e) => {
  const target = (e.target as HTMLElement).closest<HTMLElement>('button');
  const close = target?.dataset['close'];
  const open = target?.dataset['chat'];
  if (close !== undefined) {
    post({ type: 'closeChat', chatId: close });
  } else if (open !== undefined && open !== chatId) {
    post({ type: 'switchChat', chatId: open });
  }
});

byId('transcript').addEventListener('click', (e) => {
  const target = e.target as HTMLElement;
  const chip = target.closest<HTMLElement>('[data-open-path]');
  if (chip !== null) {
    const path = chip.dataset['openPath'] ?? '';
    const line = chip.dataset['openLine'];
    post(line === undefined ? { type: 'openFile', path } : { type: 'openFile', path, line: Number(line) });
    return;
  }
  const copy = target.closest<HTMLElement>('.copy-code');
  const code = copy?.closest('.code-block')?.querySelector('code')?.textContent;
  if (copy !== null && typeof code === 'string') {
    void navigator.clipboard.writeText(code);
  }
});

const saved = vscode.getState() as { draft?: string; references?: { kind: ReferenceKind; value: string }[] } | undefined;
if (saved?.draft !== undefined) {
  input.value = saved.draft;
  references = saved.references ?? [];
  autoGrow();
}
render();
post({ type: 'ready' });
