/**
 * A sub-agent in the parent's transcript: a collapsible row whose summary
 * says who it is, what it was asked and how it is doing (a spinner while it
 * runs), with its final answer (or error) below once it ends, its approvals
 * and a Stop button while it runs; expanded, its own transcript, drawn by a
 * nested Transcript (the same rows as the chat's). The row is updated in
 * place, so what is expanded inside it stays expanded while it streams.
 */

import type { Entry, PendingApproval } from '../logic/chatState';
import { statusText, type AgentEntry } from '../logic/subAgents';
import { h, icon } from './dom';
import { renderMarkdown } from './markdown';
import { approvalBox } from './toolRow';

/** What draws the sub-agent's transcript (a Transcript; passed in, as it draws this row too). */
export interface EntriesView {
  render(entries: readonly Entry[]): void;
  toggleOutput(callId: string): void;
  setSpeaker(name: string): void;
}

const STATUS_ICON: Record<string, [string, string]> = {
  running: ['loading', 'codicon-modifier-spin'],
  finished: ['check', ''],
  error: ['error', ''],
  interrupted: ['debug-stop', ''],
  stopped: ['debug-stop', ''],
  limitReached: ['warning', ''],
  paused: ['debug-pause', ''],
};

export class AgentRow {
  readonly el: HTMLElement;
  private readonly details: HTMLDetailsElement;
  private readonly body: HTMLElement;
  private readonly note: HTMLElement;
  private readonly innerRoot: HTMLElement;
  private readonly inner: EntriesView;
  private readonly after: HTMLElement;
  private entry: AgentEntry | undefined;
  /** what the summary and the part below it were drawn from */
  private drawnHead = '';

  constructor(makeView: (root: HTMLElement) => EntriesView) {
    this.innerRoot = h('div', { class: 'agent-transcript', role: 'log', 'aria-label': 'Sub-agent transcript' });
    this.inner = makeView(this.innerRoot);
    this.note = h('div', { class: 'agent-note' });
    this.body = h('div', { class: 'agent-body' }, this.note, this.innerRoot);
    this.details = h('details', { class: 'agent-details' }, h('summary', {}), this.body);
    this.after = h('div', { class: 'agent-after' });
    this.el = h('div', { class: 'entry agent' }, this.details, this.after);
  }

  /**
   * Show the entry (and the approvals of the chat waiting in it). What its
   * transcript changes is drawn inside; the summary, the answer and the Stop
   * button are drawn again only when they change (a button redrawn with each
   * streamed word would swallow clicks).
   */
  update(entry: AgentEntry, approvals: readonly PendingApproval[]): void {
    const mine = approvals.filter((a) => a.agentPodId !== undefined && a.agentPodId === entry.podId);
    const head = JSON.stringify([entry.status, entry.name, entry.scope, entry.task, entry.answer, entry.error, entry.podId, entry.callId, entry.restored, mine.map((a) => a.requestId), mine.length > 0 ? approvals.length : 0]);
    const headChanged = head !== this.drawnHead;
    if (headChanged) {
      this.drawnHead = head;
      this.inner.setSpeaker(entry.name);
      this.el.className = `entry agent agent-${entry.status}`;
      setData(this.el, 'data-agent-pod', entry.podId);
      setData(this.el, 'data-call-id', entry.callId);
      this.details.querySelector(':scope > summary')?.replaceWith(summaryLine(entry, mine.length > 0));
      this.after.replaceChildren(...mine.map((a) => approvalBox(a, { all: approvals })), ...ending(entry));
    }
    const previous = this.entry;
    this.entry = entry;
    if (headChanged || previous?.transcript !== entry.transcript) {
      this.note.textContent = noteText(entry);
      this.note.hidden = this.note.textContent === '';
      this.inner.render(entry.transcript?.entries ?? []);
    }
  }

  /** Show a tool's whole output (or its last lines) in the sub-agent's transcript. */
  toggleOutput(callId: string): void {
    this.inner.toggleOutput(callId);
    this.inner.render(this.entry?.transcript?.entries ?? []);
  }
}

function setData(el: HTMLElement, attribute: string, value: string | undefined): void {
  if (value === undefined) {
    el.removeAttribute(attribute);
  } else {
    el.setAttribute(attribute, value);
  }
}

function summaryLine(entry: AgentEntry, waiting: boolean): HTMLElement {
  const [glyph, modifier] = STATUS_ICON[entry.status] ?? ['circle-filled', ''];
  const status = waiting ? 'waiting for your approval' : statusText(entry.status);
  return h(
    'summary',
    { 'aria-label': `Sub-agent ${entry.name}${entry.scope === undefined ? '' : ` (${entry.scope})`}: ${status}. ${entry.task ?? ''}`.trim() },
    h('span', { class: 'agent-status-icon' }, icon(glyph, modifier)),
    icon('hubot'),
    h('span', { class: 'agent-name' }, entry.name),
    entry.scope === undefined ? undefined : h('span', { class: 'agent-scope' }, entry.scope),
    h('span', { class: 'agent-status' }, status),
    entry.task === undefined ? undefined : h('span', { class: 'agent-task', title: entry.task }, entry.task),
  );
}

/** What the expanded row says above (or instead of) the sub-agent's transcript. */
function noteText(entry: AgentEntry): string {
  if (entry.transcript === undefined) {
    return entry.restored === true
      ? 'Restored from the session: only the task and the final answer are shown here (the steps are in the sub-agent’s own session).'
      : 'No steps yet.';
  }
  return entry.restored === true ? 'Steps from before the chat was restored are not shown.' : '';
}

/** The answer or the error once it ended; the Stop button while it runs. */
function ending(entry: AgentEntry): HTMLElement[] {
  if (entry.status === 'running') {
    return entry.podId === undefined
      ? []
      : [
          h(
            'div',
            { class: 'agent-stop' },
            h(
              'button',
              { type: 'button', class: 'button secondary', 'data-stop-agent': entry.podId, 'aria-label': `Stop ${entry.name}`, title: 'Stop this sub-agent; the agent that started it is told and goes on' },
              icon('debug-stop'),
              `Stop ${entry.name}`,
            ),
          ),
        ];
  }
  const out: HTMLElement[] = [];
  if (entry.error !== undefined) {
    out.push(h('div', { class: 'agent-error', role: 'alert' }, icon('error'), h('span', {}, entry.error)));
  }
  if (entry.answer !== undefined) {
    const answer = h('div', { class: 'markdown agent-answer-text' });
    answer.innerHTML = renderMarkdown(entry.answer); // markdown-it with html:false escapes raw HTML
    out.push(h('div', { class: 'agent-answer', 'aria-label': `${entry.name}'s answer` }, h('div', { class: 'agent-answer-head' }, icon('reply'), 'Answer'), answer));
  }
  return out;
}
