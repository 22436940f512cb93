/**
 * A tool call in the transcript: a row whose summary wraps, that expands to
 * the arguments formatted for people (a path is a link, a command is code, an
 * edit a small diff) and the output in a monospace block (its last lines, the
 * whole on demand); an approval waiting for the user and an edit under review
 * show below the row, open or not. A running command shows its live output
 * (the last lines) in the same block, its last line in the summary, and a
 * Stop button below the row.
 */

import { approvalNote } from '../logic/approval';
import type { EditState, Entry, PendingApproval } from '../logic/chatState';
import { h, icon } from './dom';

export type ToolEntry = Extract<Entry, { kind: 'tool' }>;

/** Per-row view state that survives redraws. */
export interface RowUi {
  open: boolean;
  /** the whole output is shown */
  fullOutput: boolean;
}

/** The approvals of the whole chat, for "2 of 3" and the focus. */
export interface ApprovalQueue {
  all: readonly PendingApproval[];
}

const TOOL_ICON: Record<ToolEntry['status'], [string, string]> = {
  running: ['loading', 'codicon-modifier-spin'],
  ok: ['check', ''],
  failed: ['error', ''],
};

export const EDIT_TEXT: Record<EditState['status'], [string, string]> = {
  proposed: ['diff', 'waiting for your review'],
  applied: ['check', 'applied'],
  partial: ['diff-modified', 'partly applied'],
  rejected: ['circle-slash', 'rejected'],
  stale: ['warning', 'not sent: the file changed since the agent read it'],
  failed: ['error', 'failed'],
};

/** Lines of output visible before "Show all". */
export const TAIL_LINES = 12;
const DIFF_LINES = 40;

function fileName(uri: string): string {
  const path = decodeURIComponent(uri.replace(/^file:\/\//, ''));
  return path.split('/').pop() ?? path;
}

function toolTarget(entry: ToolEntry): string {
  const args = entry.arguments;
  for (const key of ['path', 'command', 'pattern', 'query', 'url']) {
    const value = args[key];
    if (typeof value === 'string' && value !== '') {
      return value;
    }
  }
  return '';
}

function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.length > 1 && all[all.length - 1] === '') {
    all.pop();
  }
  return all;
}

/** `-` and `+` lines, cut at DIFF_LINES. */
function diffBlock(removed: string | undefined, added: string | undefined): HTMLElement {
  const rows: HTMLElement[] = [];
  const push = (text: string | undefined, sign: '-' | '+'): void => {
    for (const line of text === undefined || text === '' ? [] : lines(text)) {
      rows.push(h('span', { class: sign === '-' ? 'diff-del' : 'diff-ins' }, `${sign} ${line}\n`));
    }
  };
  push(removed, '-');
  push(added, '+');
  const shown = rows.slice(0, DIFF_LINES);
  if (rows.length > DIFF_LINES) {
    shown.push(h('span', { class: 'diff-more' }, `… ${rows.length - DIFF_LINES} more lines\n`));
  }
  return h('pre', { class: 'tool-diff', 'aria-label': 'Proposed change' }, ...shown);
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The arguments, formatted by what they are. */
function argumentsView(entry: ToolEntry): HTMLElement {
  const args = entry.arguments;
  const parts: HTMLElement[] = [];
  const used = new Set<string>();
  const take = (key: string): unknown => {
    used.add(key);
    return args[key];
  };
  const path = take('path');
  if (typeof path === 'string' && path !== '') {
    parts.push(
      h('div', { class: 'arg arg-path' }, icon('file'), h('button', { type: 'button', class: 'link', 'data-open-path': path, title: `Open ${path}` }, path)),
    );
  }
  const command = take('command');
  if (typeof command === 'string') {
    parts.push(h('pre', { class: 'tool-command' }, h('code', {}, command)));
  }
  const cwd = take('cwd');
  if (typeof cwd === 'string' && cwd !== '') {
    parts.push(h('div', { class: 'arg' }, h('span', { class: 'arg-key' }, 'in'), h('code', {}, cwd)));
  }
  const oldText = take('old_string');
  const newText = take('new_string');
  if (typeof oldText === 'string' || typeof newText === 'string') {
    parts.push(diffBlock(typeof oldText === 'string' ? oldText : undefined, typeof newText === 'string' ? newText : undefined));
  } else if (entry.name === 'write_file' && typeof args['content'] === 'string') {
    parts.push(diffBlock(undefined, valueText(take('content'))));
  }
  const rest = Object.entries(args).filter(([key]) => !used.has(key));
  if (rest.length > 0) {
    parts.push(
      h(
        'dl',
        { class: 'tool-args' },
        ...rest.flatMap(([key, value]) => [h('dt', {}, key), h('dd', {}, valueText(value))]),
      ),
    );
  }
  return h('div', { class: 'tool-arguments' }, ...parts);
}

/** The output: its last lines, or all of it. */
function outputView(entry: ToolEntry, ui: RowUi): HTMLElement | undefined {
  if (entry.live !== undefined) {
    return liveView(entry.live);
  }
  // Servers before `toolResult.content` sent only the summary: show it when it has more than its first line.
  const text = entry.content ?? (entry.summary?.includes('\n') === true ? entry.summary : undefined);
  if (text === undefined || text === '') {
    return undefined;
  }
  const all = lines(text);
  const cut = !ui.fullOutput && all.length > TAIL_LINES;
  const shown = cut ? all.slice(-TAIL_LINES) : all;
  const head = h('div', { class: 'tool-output-head' }, h('span', {}, all.length === 1 ? 'Output · 1 line' : `Output · ${all.length} lines`));
  if (all.length > TAIL_LINES) {
    head.append(
      h(
        'button',
        { type: 'button', class: 'link', 'data-output-toggle': entry.callId, 'aria-expanded': ui.fullOutput ? 'true' : 'false' },
        ui.fullOutput ? `Show the last ${TAIL_LINES} lines` : `Show all ${all.length} lines`,
      ),
    );
  }
  const pre = h('pre', { class: cut ? 'tool-output-text cut' : 'tool-output-text', tabindex: 0, 'aria-label': 'Tool output' });
  if (cut) {
    pre.append(h('span', { class: 'output-earlier' }, `… ${all.length - TAIL_LINES} earlier lines\n`));
  }
  pre.append(shown.join('\n'));
  return h('div', { class: 'tool-output', 'data-lines': all.length }, head, pre);
}

/** A running command's output so far: its last lines, following the end. */
function liveView(text: string): HTMLElement {
  const all = lines(text);
  const shown = all.slice(-TAIL_LINES);
  const head = h('div', { class: 'tool-output-head' }, h('span', {}, 'Output so far'));
  const pre = h('pre', { class: 'tool-output-text live', tabindex: 0, 'aria-label': 'Live output', 'aria-live': 'off' }, shown.join('\n'));
  return h('div', { class: 'tool-output tool-live', 'data-lines': all.length }, head, pre);
}

/** The last non-empty line of a command's live output, for the summary. */
function lastLine(text: string): string | undefined {
  return lines(text)
    .reverse()
    .find((line) => line.trim() !== '');
}

/**
 * Redraw a running command's new live output in place, when that is all that
 * changed (a row redrawn several times a second would swallow clicks on its
 * Stop button); false when the row must be drawn again.
 */
export function updateLive(el: HTMLElement, prev: Entry, next: Entry): boolean {
  if (prev.kind !== 'tool' || next.kind !== 'tool' || next.live === undefined || prev.live === undefined) {
    return false;
  }
  const keys = new Set([...Object.keys(prev), ...Object.keys(next)]);
  for (const key of keys) {
    if (key !== 'live' && prev[key as keyof ToolEntry] !== next[key as keyof ToolEntry]) {
      return false;
    }
  }
  const live = el.querySelector('.tool-live');
  const summary = el.querySelector('.tool-summary');
  if (live === null || summary === null || summary.textContent !== (lastLine(prev.live) ?? summary.textContent)) {
    return false; // showing something else (an approval, an edit's state)
  }
  live.replaceWith(liveView(next.live));
  summary.textContent = lastLine(next.live) ?? summary.textContent;
  return true;
}

function stopBar(entry: ToolEntry): HTMLElement {
  return h(
    'div',
    { class: 'tool-stop', role: 'group', 'aria-label': 'Running command' },
    h(
      'button',
      { type: 'button', class: 'button secondary', 'data-stop-tool': entry.callId, 'aria-label': 'Stop this command', title: 'Stop this command; the agent gets its output so far' },
      icon('debug-stop'),
      'Stop',
    ),
  );
}

function editRow(edit: EditState): HTMLElement {
  const [glyph, text] = EDIT_TEXT[edit.status];
  return h(
    'li',
    { class: `edit edit-${edit.status}` },
    icon(glyph),
    h('span', { class: 'edit-file' }, fileName(edit.uri)),
    h('span', { class: 'edit-status' }, edit.message === undefined ? text : `${text}: ${edit.message}`),
  );
}

/** An approval waiting for the user (in its tool row, or a sub-agent's row: `agent` names who asks). */
export function approvalBox(approval: PendingApproval, queue: ApprovalQueue): HTMLElement {
  const position = queue.all.indexOf(approval);
  const who = approval.agent ?? 'yoi';
  const title = approval.command !== undefined ? `${who} wants to run this command` : `${who} wants to use ${approval.tool}`;
  const box = h(
    'div',
    { class: 'approval', role: 'group', 'aria-label': approval.command !== undefined ? `Approve running ${approval.command}` : title, 'data-request': approval.requestId },
    h(
      'div',
      { class: 'approval-title' },
      icon('shield'),
      h('span', {}, title),
      queue.all.length > 1 ? h('span', { class: 'approval-count' }, `${position + 1} of ${queue.all.length} waiting`) : undefined,
    ),
  );
  if (approval.command !== undefined) {
    box.append(h('pre', { class: 'tool-command' }, h('code', {}, approval.command)));
    const note = approvalNote(approval.reason);
    if (note !== undefined) {
      box.append(h('div', { class: 'approval-note' }, icon('warning'), h('span', {}, note)));
    }
  } else {
    box.append(h('div', { class: 'approval-reason' }, approval.reason));
  }
  box.append(
    h('div', { class: 'approval-cwd' }, h('span', { class: 'arg-key' }, 'in'), h('code', {}, approval.cwd)),
    h(
      'div',
      { class: 'approval-buttons' },
      h('button', { type: 'button', class: 'button primary', 'data-approve': 'allow' }, 'Allow'),
      h('button', { type: 'button', class: 'button secondary', 'data-approve': 'allowSession', title: 'Also allow later calls like this one in this chat' }, 'Allow for this Session'),
      approval.noWorkspace === true
        ? undefined
        : h('button', { type: 'button', class: 'button secondary', 'data-approve': 'allowAlways', title: 'Also allow calls like this one in later chats of this workspace (a rule in your config; "Yoi: Manage Approval Rules" revokes it)' }, 'Always allow in this workspace'),
      h('button', { type: 'button', class: 'button secondary', 'data-approve': 'deny', title: 'Deny (Escape)' }, 'Deny'),
    ),
  );
  return box;
}

function reviewBar(entry: ToolEntry): HTMLElement | undefined {
  const review = entry.review;
  if (review === undefined) {
    return undefined;
  }
  const decided = review.kept + review.undone;
  const what = review.total === 1 ? '1 change' : `${review.total} changes`;
  return h(
    'div',
    { class: 'tool-review', role: 'group', 'aria-label': 'Edit review' },
    icon('diff'),
    h('span', { class: 'review-text' }, decided === 0 ? `Review ${what} in the editor` : `${decided} of ${what} decided`),
    h('button', { type: 'button', class: 'button secondary', 'data-review': 'open' }, 'Show'),
    h('button', { type: 'button', class: 'button secondary', 'data-review': 'keepAll' }, 'Keep All'),
    h('button', { type: 'button', class: 'button secondary', 'data-review': 'undoAll' }, 'Undo All'),
  );
}

export function toolRow(entry: ToolEntry, ui: RowUi, queue: ApprovalQueue): HTMLElement {
  const [glyph, modifier] = TOOL_ICON[entry.status];
  const latestEdit = entry.edits[entry.edits.length - 1];
  const waiting = queue.all.filter((a) => a.toolCallId === entry.callId && a.agentPodId === undefined);
  let summary = entry.summary ?? 'running…';
  if (waiting.length > 0) {
    summary = 'waiting for your approval';
  } else if (latestEdit !== undefined && entry.status === 'running') {
    summary = entry.review !== undefined ? 'waiting for your review in the editor' : EDIT_TEXT[latestEdit.status][1];
  } else if (entry.live !== undefined && entry.status === 'running') {
    summary = lastLine(entry.live) ?? summary;
  }
  const summaryLine = summary.split('\n')[0] ?? summary;
  const body = h('div', { class: 'tool-body' });
  if (entry.edits.length > 0) {
    body.append(h('ul', { class: 'edits' }, ...entry.edits.map(editRow)));
  }
  body.append(argumentsView(entry));
  const output = outputView(entry, ui);
  if (output !== undefined) {
    body.append(output);
  }
  const state = entry.status === 'running' ? 'running' : entry.status === 'ok' ? 'done' : 'failed';
  const details = h(
    'details',
    { class: 'tool-details', open: ui.open },
    h(
      'summary',
      { 'aria-label': `${entry.name} ${toolTarget(entry)}: ${state}. ${summaryLine}` },
      h('span', { class: 'tool-status' }, icon(glyph, modifier)),
      h('span', { class: 'tool-name' }, entry.name),
      h('span', { class: 'tool-target' }, toolTarget(entry)),
      h('span', { class: 'tool-summary' }, summaryLine),
    ),
    body,
  );
  return h(
    'div',
    { class: `entry tool tool-${entry.status}`, 'data-call-id': entry.callId },
    details,
    ...waiting.map((a) => approvalBox(a, queue)),
    reviewBar(entry),
    entry.status === 'running' && entry.name === 'run_command' && waiting.length === 0 ? stopBar(entry) : undefined,
  );
}
