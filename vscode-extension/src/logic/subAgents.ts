/**
 * Sub-agents in a chat's transcript (docs/protocol.md "Sub-agents"): one row
 * per sub-agent, placed under the `spawn_agent` call that started it (else at
 * the end), with its status, task, scope and final answer, and its own
 * transcript: a ChatState reduced from the events its pod sends (they carry
 * `parentPodId`), so it is drawn like any chat. A sub-agent's sub-agents are
 * rows in its transcript, the same way.
 *
 * Pure functions over ChatState; chatState.ts hands them its reducer (for
 * the nested transcripts), so the two modules do not import each other.
 */

import type { ChatEvent, SubAgentState } from '../protocol';
import type { ChatAction, ChatState, Entry } from './chatState';

/** A sub-agent's row. */
export interface AgentEntry {
  kind: 'agent';
  key: number;
  /** its pod while it runs (the last run's, once ended; absent when restored from a log) */
  podId?: string;
  /** the `spawn_agent` call that started it */
  callId?: string;
  name: string;
  /** `running`, or how its run ended: `finished` | `error` | `interrupted` | `limitReached` | `paused` | `stopped` */
  status: string;
  sessionId?: string;
  task?: string;
  scope?: string;
  answer?: string;
  error?: string;
  /** its transcript from its events; absent when the row was restored from the parent's history */
  transcript?: ChatState;
  /** restored from the parent's history: steps before the restore are not shown */
  restored?: boolean;
}

export type Reducer = (state: ChatState, action: ChatAction) => ChatState;

type SubAgentEvent = Extract<ChatEvent, { type: 'subAgent' }>;

/** What a row shows for a status. */
export const AGENT_STATUS: Record<string, string> = {
  running: 'running',
  finished: 'finished',
  error: 'failed',
  interrupted: 'interrupted',
  limitReached: 'reached its step limit',
  paused: 'paused',
  stopped: 'stopped',
};

export function statusText(status: string): string {
  return AGENT_STATUS[status] ?? status;
}

function replaceAt(state: ChatState, index: number, entry: Entry): ChatState {
  const entries = state.entries.slice();
  entries[index] = entry;
  return { ...state, entries };
}

/** Put a new entry right after the tool call `callId` (after rows already there), else at the end. */
function insertAgent(state: ChatState, entry: Omit<AgentEntry, 'key'>): ChatState {
  const row: AgentEntry = { ...entry, key: state.nextKey };
  let at = state.entries.length;
  const call = entry.callId === undefined ? -1 : state.entries.findIndex((e) => e.kind === 'tool' && e.callId === entry.callId);
  if (call >= 0) {
    at = call + 1;
    while (state.entries[at]?.kind === 'agent') {
      at += 1;
    }
  }
  const entries = [...state.entries.slice(0, at), row, ...state.entries.slice(at)];
  return { ...state, entries, nextKey: state.nextKey + 1 };
}

/** The index of the row of the sub-agent: by its pod, else by its session (a later run has a new pod). */
function findAgent(state: ChatState, podId: string, sessionId?: string): number {
  const byPod = state.entries.findIndex((e) => e.kind === 'agent' && e.podId === podId);
  if (byPod >= 0 || sessionId === undefined) {
    return byPod;
  }
  return state.entries.findIndex((e) => e.kind === 'agent' && e.sessionId === sessionId);
}

function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A `subAgent` event on this chat's pod: a row appears, or its row changes status. */
export function onSubAgent(state: ChatState, event: SubAgentEvent): ChatState {
  const fields = defined({
    callId: event.callId,
    sessionId: event.sessionId,
    task: event.task,
    scope: event.scope,
  });
  const index = findAgent(state, event.podId, event.sessionId);
  const old = state.entries[index];
  if (old?.kind !== 'agent') {
    return insertAgent(state, { kind: 'agent', podId: event.podId, name: event.name, status: event.status, ...fields, ...ended(event) });
  }
  const next: AgentEntry = { ...old, ...fields, podId: event.podId, name: event.name, status: event.status };
  delete next.answer;
  delete next.error;
  return replaceAt(state, index, { ...next, ...ended(event) });
}

function ended(event: SubAgentEvent): Pick<AgentEntry, 'answer' | 'error'> {
  return event.status === 'running' ? {} : defined({ answer: event.answer, error: event.error });
}

/**
 * An event of the sub-agent pod `podId` (whose parent is `parentPodId`):
 * reduced into that sub-agent's transcript, wherever its row is (a
 * sub-agent's sub-agent is a row in its parent's transcript). An event that
 * comes before the row (the parent's `subAgent` event is sent once logged)
 * makes a row that the `subAgent` event then completes.
 */
export function onChildEvent(state: ChatState, podId: string, parentPodId: string, event: ChatEvent, reduce: Reducer): ChatState {
  return routeChild(state, podId, parentPodId, event, reduce) ?? placeholder(state, podId, event, reduce);
}

function routeChild(state: ChatState, podId: string, parentPodId: string, event: ChatEvent, reduce: Reducer): ChatState | undefined {
  const index = findAgent(state, podId);
  const own = state.entries[index];
  if (own?.kind === 'agent') {
    return replaceAt(state, index, { ...own, transcript: reduce(own.transcript ?? emptyTranscript(), { kind: 'event', event }) });
  }
  for (const [i, entry] of state.entries.entries()) {
    if (entry.kind !== 'agent' || entry.transcript === undefined) {
      continue;
    }
    const inner = routeChild(entry.transcript, podId, parentPodId, event, reduce);
    if (inner !== undefined) {
      return replaceAt(state, i, { ...entry, transcript: inner });
    }
  }
  // the row of its parent is here: the sub-agent's row goes into that one's transcript
  const parent = findAgent(state, parentPodId);
  const parentRow = state.entries[parent];
  if (parentRow?.kind === 'agent') {
    const transcript = parentRow.transcript ?? emptyTranscript();
    return replaceAt(state, parent, { ...parentRow, transcript: placeholder(transcript, podId, event, reduce) });
  }
  return undefined;
}

function placeholder(state: ChatState, podId: string, event: ChatEvent, reduce: Reducer): ChatState {
  const withRow = insertAgent(state, { kind: 'agent', podId, name: 'sub-agent', status: 'running' });
  return routeChild(withRow, podId, '', event, reduce) ?? withRow;
}

/** An empty transcript for a sub-agent (the shape of a fresh chat). */
function emptyTranscript(): ChatState {
  return {
    entries: [],
    running: false,
    compacting: false,
    totals: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 },
    nextKey: 1,
    phaseEvents: false,
    turn: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 },
    approvals: [],
  };
}

/**
 * The sub-agents of a restored history (`subAgents` of `yoi/pod/history`) as
 * rows, under their calls when those are loaded; those whose call is on an
 * older page are returned to place when it loads.
 */
export function placeRestored(state: ChatState, agents: readonly SubAgentState[], olderPages: boolean): { state: ChatState; pending: SubAgentState[] } {
  let next = state;
  const pending: SubAgentState[] = [];
  for (const agent of agents) {
    const loaded = next.entries.some((e) => e.kind === 'tool' && e.callId === agent.callId);
    if (!loaded && olderPages) {
      pending.push(agent);
      continue;
    }
    next = insertAgent(next, {
      kind: 'agent',
      name: agent.name,
      status: agent.status,
      restored: true,
      ...defined({
        podId: agent.podId,
        callId: agent.callId,
        sessionId: agent.sessionId,
        task: agent.task,
        scope: agent.scope,
        answer: agent.answer,
        error: agent.error,
      }),
    });
  }
  return { state: next, pending };
}

/** The server stopped: sub-agents still shown running (at any depth) were lost with it. */
export function lostAgents(state: ChatState): ChatState {
  let next = state;
  state.entries.forEach((entry, index) => {
    if (entry.kind !== 'agent') {
      return;
    }
    const transcript = entry.transcript === undefined ? undefined : lostAgents(entry.transcript);
    if (entry.status === 'running' || transcript !== entry.transcript) {
      const lost: AgentEntry = { ...entry, status: entry.status === 'running' ? 'interrupted' : entry.status };
      next = replaceAt(next, index, transcript === undefined ? lost : { ...lost, transcript });
    }
  });
  return next;
}

/** The transcript shows the tool call `callId`, or one of its sub-agents' does (at any depth). */
export function hasCall(state: ChatState, callId: string): boolean {
  return state.entries.some((e) => (e.kind === 'tool' && e.callId === callId) || (e.kind === 'agent' && e.transcript !== undefined && hasCall(e.transcript, callId)));
}

/** `update` applied to the transcript of the sub-agent whose transcript shows the tool call `callId` (the state as it was when none does). */
export function inAgentWithCall(state: ChatState, callId: string, update: (transcript: ChatState) => ChatState): ChatState {
  const index = state.entries.findIndex((e) => e.kind === 'agent' && e.transcript !== undefined && hasCall(e.transcript, callId));
  const row = state.entries[index];
  if (row?.kind !== 'agent' || row.transcript === undefined) {
    return state;
  }
  return replaceAt(state, index, { ...row, transcript: update(row.transcript) });
}

/** The row of the sub-agent pod `podId`, at any depth. */
export function agentOf(state: ChatState, podId: string): AgentEntry | undefined {
  for (const entry of state.entries) {
    if (entry.kind !== 'agent') {
      continue;
    }
    if (entry.podId === podId) {
      return entry;
    }
    const inner = entry.transcript === undefined ? undefined : agentOf(entry.transcript, podId);
    if (inner !== undefined) {
      return inner;
    }
  }
  return undefined;
}
