/**
 * The chat webview: renders the host's ChatState snapshots and actions, and
 * sends the user's input, Stop and reference look-ups back to the host.
 */

import { emptyChat, reduce, type ChatState } from '../logic/chatState';
import { contextSummary, contextTooltip, describeActivity, formatTokens } from '../logic/display';
import type { ChatTab, HostMessage, WebviewMessage } from '../messages';
import type { ApprovalDecision, ReferenceKind } from '../protocol';
import type { CheckpointAction, ReviewAction } from '../messages';
import type { PendingImage } from '../logic/images';
import { messageForInput } from '../logic/checkpoints';
import { isMode } from '../logic/modes';
import { Attachments, imageFiles } from './attachments';
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
const activityBar = byId('activity');
const approvalQueue = byId('approval-queue');
const modeSwitch = byId('mode');
const planReady = byId('plan-ready');
const executePlan = byId('execute-plan');
const transcriptRoot = byId('transcript');
const transcript = new Transcript(transcriptRoot);

let chatId = '';
let state: ChatState = emptyChat();
let references: { kind: ReferenceKind; value: string }[] = [];
/** "Edit and resend": the key of the user message the input replaces */
let resendKey: number | undefined;
const PLACEHOLDER = input.placeholder;
let frame = 0;
/** when the shown activity began (the turn's clock), and its ticker */
let activitySince = 0;
let ticker = 0;
/** the approval whose Allow button got the focus last */
let focusedApproval = '';
/** where the loaded history began when earlier messages were last asked for (-1: not asked) */
let olderAsked = -1;

const picker = new Picker(byId('picker'), input, {
  complete: (requestId, kind, prefix) => post({ type: 'complete', requestId, kind, prefix }),
  accepted: (kind, value) => references.push({ kind, value }),
});

const attachments = new Attachments(byId('attachments'), () => saveDraft());

function saveDraft(): void {
  vscode.setState({ draft: input.value, references, images: attachments.images });
}

function renderStatus(): void {
  const parts: string[] = [];
  if (state.model !== undefined) {
    parts.push(state.model);
  }
  const context = contextSummary(state.contextTokens, state.limits);
  if (context !== undefined) {
    parts.push(context);
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
    `${contextTooltip(state.contextTokens, state.limits)}\n` +
    `Used in this chat: ${t.inputTokens} input (${t.cacheReadTokens} from cache), ${t.outputTokens} output tokens`;
}

function renderActivity(): void {
  const activity = state.activity;
  const label = describeActivity(state);
  if (activity === undefined || label === undefined) {
    activityBar.hidden = true;
    activityBar.replaceChildren();
    activitySince = 0;
    window.clearInterval(ticker);
    ticker = 0;
    return;
  }
  if (activitySince === 0) {
    activitySince = Date.now();
    ticker = window.setInterval(renderActivity, 1000);
  }
  const seconds = Math.floor((Date.now() - activitySince) / 1000);
  activityBar.hidden = false;
  activityBar.dataset['phase'] = activity.phase;
  activityBar.replaceChildren(
    icon('loading', 'codicon-modifier-spin'),
    h('span', { class: 'activity-label' }, label),
    seconds >= 1 ? h('span', { class: 'activity-time' }, `${seconds}s`) : '',
  );
}

/** The queue of approvals, and the focus on the oldest one's Allow (unless the user is typing). */
function renderApprovals(): void {
  const count = state.approvals.length;
  approvalQueue.hidden = count < 2;
  approvalQueue.replaceChildren(
    ...(count < 2 ? [] : [icon('shield'), h('span', {}, `${count} approvals are waiting`), h('button', { type: 'button', class: 'link', 'data-first-approval': true }, 'Show the first')]),
  );
  const head = state.approvals[0];
  if (head === undefined) {
    focusedApproval = '';
    return;
  }
  const typing = document.activeElement === input && input.value.trim() !== '';
  const inApproval = document.activeElement?.closest('.approval') ?? null;
  if (head.requestId !== focusedApproval && !typing) {
    focusedApproval = head.requestId;
    focusApproval(head.requestId);
  } else if (inApproval === null && document.activeElement === document.body && focusedApproval === head.requestId) {
    focusApproval(head.requestId); // its row was redrawn under the focus
  }
}

function focusApproval(requestId: string): void {
  const button = transcriptRoot.querySelector<HTMLButtonElement>(`.approval[data-request="${CSS.escape(requestId)}"] [data-approve="allow"]`);
  button?.scrollIntoView({ block: 'nearest' });
  button?.focus();
}

/** Ask the host for the page of history before the loaded one (once per page). */
function loadOlder(): void {
  if (state.paging === undefined || olderAsked === state.paging.start) {
    return;
  }
  olderAsked = state.paging.start;
  post({ type: 'loadOlder' });
  schedule();
}

function render(): void {
  frame = 0;
  transcript.render(state.entries, state.approvals, state.paging === undefined ? undefined : { loading: olderAsked === state.paging.start });
  if (state.paging !== undefined && transcriptRoot.clientHeight > 0 && transcriptRoot.scrollHeight <= transcriptRoot.clientHeight) {
    loadOlder(); // nothing to scroll yet: the earlier messages fill the view
  }
  renderActivity();
  renderApprovals();
  empty.hidden = state.entries.length > 0;
  sendButton.hidden = state.running;
  stopButton.hidden = !state.running;
  renderStatus();
  renderMode();
}

/** The mode picker shows the chat's mode; "Execute plan" once a turn in plan mode ended. */
function renderMode(): void {
  const mode = state.mode ?? 'agent';
  modeSwitch.dataset['current'] = mode;
  for (const option of modeSwitch.querySelectorAll<HTMLButtonElement>('[data-mode]')) {
    option.setAttribute('aria-checked', String(option.dataset['mode'] === mode));
    option.disabled = state.running; // the server takes a change between turns only
  }
  planReady.hidden = state.planReady !== true || state.running;
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
  if ((text === '' && attachments.images.length === 0) || state.running) {
    return;
  }
  const message: WebviewMessage = attachments.images.length > 0 ? { type: 'send', text, references, images: attachments.images } : { type: 'send', text, references };
  post(resendKey === undefined ? message : { ...message, resendKey });
  editMessage(undefined);
  input.value = '';
  references = [];
  attachments.clear();
  picker.close();
  autoGrow();
  saveDraft();
}

/** Put a user message back into the input to edit and resend it (undefined: stop editing). */
function editMessage(key: number | undefined): void {
  const entry = state.entries.find((e) => e.key === key);
  resendKey = entry?.kind === 'user' ? key : undefined;
  input.placeholder = resendKey === undefined ? PLACEHOLDER : 'Edit the message; Enter resends it from there (Escape cancels)';
  if (entry?.kind === 'user') {
    const message = messageForInput(entry.segments);
    input.value = message.text;
    references = message.references;
    input.focus();
    autoGrow();
    saveDraft();
  }
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const message = e.data;
  switch (message.type) {
    case 'reset':
      olderAsked = -1;
      if (message.chatId !== chatId) {
        editMessage(undefined);
      }
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
  if (e.key === 'Escape' && resendKey !== undefined) {
    e.preventDefault();
    editMessage(undefined);
    input.value = '';
    references = [];
    autoGrow();
    saveDraft();
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
input.addEventListener('paste', (e) => {
  const files = imageFiles(e.clipboardData);
  if (files.length > 0) {
    e.preventDefault();
    void attachments.add(files);
  }
});
input.addEventListener('dragover', (e) => {
  if (e.dataTransfer?.types.includes('Files') === true) {
    e.preventDefault();
  }
});
input.addEventListener('drop', (e) => {
  const files = imageFiles(e.dataTransfer);
  if (files.length > 0) {
    e.preventDefault();
    void attachments.add(files);
  }
});
input.addEventListener('blur', () => picker.close());
sendButton.addEventListener('click', send);
stopButton.addEventListener('click', () => post({ type: 'stop' }));
modeSwitch.addEventListener('click', (e) => {
  const mode = (e.target as HTMLElement).closest<HTMLElement>('[data-mode]')?.dataset['mode'];
  if (isMode(mode) && mode !== (state.mode ?? 'agent')) {
    post({ type: 'setMode', mode });
  }
});
executePlan.addEventListener('click', () => {
  planReady.hidden = true; // until the host's answer redraws it
  post({ type: 'executePlan' });
});

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

transcriptRoot.addEventListener('click', (e) => {
  const target = e.target as HTMLElement;
  const approve = target.closest<HTMLElement>('[data-approve]');
  const requestId = approve?.closest<HTMLElement>('.approval')?.dataset['request'];
  if (approve !== null && requestId !== undefined) {
    post({ type: 'approve', requestId, decision: approve.dataset['approve'] as ApprovalDecision });
    return;
  }
  const review = target.closest<HTMLElement>('[data-review]');
  const reviewCall = review?.closest<HTMLElement>('.tool')?.dataset['callId'];
  if (review !== null && reviewCall !== undefined) {
    post({ type: 'review', callId: reviewCall, action: review.dataset['review'] as ReviewAction });
    return;
  }
  const stopAgent = target.closest<HTMLElement>('[data-stop-agent]')?.dataset['stopAgent'];
  if (stopAgent !== undefined) {
    post({ type: 'stopAgent', podId: stopAgent });
    return;
  }
  const stopButton = target.closest<HTMLElement>('[data-stop-tool]');
  const stop = stopButton?.dataset['stopTool'];
  if (stop !== undefined) {
    // a command in a sub-agent's transcript is that sub-agent's
    const agentPodId = stopButton?.closest<HTMLElement>('.entry.agent')?.dataset['agentPod'];
    post(agentPodId === undefined ? { type: 'stopTool', callId: stop } : { type: 'stopTool', callId: stop, agentPodId });
    return;
  }
  const entryKey = Number(target.closest<HTMLElement>('.entry.user')?.dataset['key']);
  const checkpoint = target.closest<HTMLElement>('[data-checkpoint]')?.dataset['checkpoint'];
  if (checkpoint !== undefined && Number.isInteger(entryKey)) {
    post({ type: 'checkpoint', action: checkpoint as CheckpointAction, key: entryKey });
    return;
  }
  if (target.closest('[data-edit-resend]') !== null && Number.isInteger(entryKey)) {
    editMessage(entryKey);
    return;
  }
  if (target.closest('[data-raise-budget]') !== null) {
    const key = Number(target.closest<HTMLElement>('.entry.notice')?.dataset['key']);
    if (Number.isInteger(key)) {
      post({ type: 'raiseBudget', key });
    }
    return;
  }
  if (target.closest('[data-load-older]') !== null) {
    olderAsked = -1; // a click asks again, even after a failure
    loadOlder();
    return;
  }
  const toggle = target.closest<HTMLElement>('[data-output-toggle]')?.dataset['outputToggle'];
  if (toggle !== undefined) {
    transcript.toggleOutput(toggle);
    render();
    transcriptRoot.querySelector<HTMLElement>(`.tool[data-call-id="${CSS.escape(toggle)}"] [data-output-toggle]`)?.focus();
    return;
  }
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

transcriptRoot.addEventListener(
  'scroll',
  () => {
    // (only what is drawn counts: a scroll event queued before a new chat's first frame is not the user's)
    if (frame === 0 && transcriptRoot.scrollTop < 300 && transcriptRoot.scrollHeight > transcriptRoot.clientHeight) {
      loadOlder();
    }
  },
  { passive: true },
);

transcriptRoot.addEventListener('keydown', (e) => {
  const box = (e.target as HTMLElement).closest<HTMLElement>('.approval');
  const requestId = box?.dataset['request'];
  if (e.key === 'Escape' && requestId !== undefined) {
    e.preventDefault();
    post({ type: 'approve', requestId, decision: 'deny' });
  }
});

approvalQueue.addEventListener('click', (e) => {
  if ((e.target as HTMLElement).closest('[data-first-approval]') !== null && state.approvals[0] !== undefined) {
    focusApproval(state.approvals[0].requestId);
  }
});

const saved = vscode.getState() as { draft?: string; references?: { kind: ReferenceKind; value: string }[]; images?: PendingImage[] } | undefined;
if (saved?.draft !== undefined) {
  input.value = saved.draft;
  references = saved.references ?? [];
  autoGrow();
}
attachments.restore(saved?.images ?? []);
render();
post({ type: 'ready' });
