/**
 * A chat's transcript as a pure reduction of what happened: wire events,
 * a restored history, the user's own sends and the turns' results. The
 * extension host and the webview run the same reducer, so the host can hand a
 * snapshot to a webview that was closed, hidden or reloaded.
 *
 * States are immutable: an entry that changed is a new object, so a renderer
 * can redraw only the entries whose identity changed.
 */

import type { AlertLevel, ChatEvent, ChatResult, ContextLimits, EditStatus, HistoryItem, PodMode, PodPhase, PodSettings, Segment, SubAgentState } from '../protocol';
import { raiseKind, type RaiseKind } from './budget';
import { withOutcomes } from './editOutcomes';
import { idle, withActivity } from './activity';
import { inAgentWithCall, lostAgents, onChildEvent, onSubAgent, placeRestored, type AgentEntry } from './subAgents';

export type ToolStatus = 'running' | 'ok' | 'failed';

/** What the turn is doing now, for the working indicator. */
export type Phase = 'preparing' | PodPhase | 'thinking' | 'writing';

export interface Activity {
  phase: Phase;
  /** the running tool, with `runningTool` */
  tool?: string;
}

/** A `yoi/approval` request waiting for the user's answer in the chat. */
export interface PendingApproval {
  /** the host's id for the request */
  requestId: string;
  toolCallId: string;
  tool: string;
  /** the command, for command tools */
  command?: string;
  /** the working directory, absolute when the workspace root is known */
  cwd: string;
  reason: string;
  /** a sub-agent asks: its pod (its row shows the request) */
  agentPodId?: string;
  /** that sub-agent's name */
  agent?: string;
  /** no workspace folder: no "always allow in this workspace" to offer */
  noWorkspace?: boolean;
}

/** An edit under review in the editor: how many of its changes were decided. */
export interface ReviewProgress {
  total: number;
  kept: number;
  undone: number;
}

export interface TurnUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  /** summed over the requests that reported a cost */
  costUsd?: number;
}

export interface EditState {
  uri: string;
  /** `partial`: the user kept only some of the change (from the tool's result) */
  status: EditStatus | 'partial';
  message?: string;
}

export type Entry =
  | { kind: 'user'; key: number; segments: Segment[] }
  | { kind: 'assistant'; key: number; text: string; streaming: boolean }
  | { kind: 'reasoning'; key: number; text: string; streaming: boolean }
  | {
      kind: 'tool';
      key: number;
      callId: string;
      name: string;
      arguments: Record<string, unknown>;
      status: ToolStatus;
      summary?: string;
      content?: string;
      edits: EditState[];
      /** an edit of this call is being reviewed in the editor */
      review?: ReviewProgress;
      /** a running command's output so far (its end), until the result replaces it */
      live?: string;
    }
  /** `raise`: a turn stopped by a session budget, which the user may raise (the "Raise Session Budget…" button) */
  | { kind: 'notice'; key: number; level: AlertLevel; text: string; source?: string; raise?: RaiseKind }
  /** the tokens (and cost) of a turn that ended */
  | ({ kind: 'usage'; key: number } & TurnUsage)
  /** a sub-agent (see subAgents.ts) */
  | AgentEntry;

export interface Totals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
}

/** What the pod has spent (US dollars), once the server says a price is known. */
export interface Spend {
  /** the last turn (or the running one) */
  turnUsd?: number;
  sessionUsd?: number;
  /** today (UTC), every yoi process of the user */
  dayUsd?: number;
}

export interface ChatState {
  entries: Entry[];
  running: boolean;
  compacting: boolean;
  /** the estimated size of the next request's context */
  contextTokens?: number;
  /** summed over this chat's requests since it was opened */
  totals: Totals;
  model?: string;
  nextKey: number;
  /** what the running turn is doing; undefined when idle */
  activity?: Activity;
  /** the server sends `phase` events (else the phase is read from the others) */
  phaseEvents: boolean;
  /** the running turn's usage so far */
  turn: TurnUsage;
  /** approvals waiting for an answer, oldest first */
  approvals: PendingApproval[];
  /** the model's window and the compaction thresholds, once known */
  limits?: ContextLimits;
  /** older history not loaded yet (the history is read a page at a time, the latest first) */
  paging?: HistoryPaging;
  /** the pod's mode (`yoi/pod/configure`), once known */
  mode?: PodMode;
  /** the pod's `[profiles.<name>]`, null: none */
  profile?: string | null;
  /** litellm's `reasoning_effort` for the pod, null: the manifest's */
  reasoningEffort?: string | null;
  /** a turn that ran in plan mode ended: the chat offers "Execute plan" (until the next message or mode) */
  planReady?: boolean;
  /** the money spent, from `usage` events and `yoi/pod/list` */
  spend?: Spend;
}

export type ChatAction =
  | { kind: 'event'; event: ChatEvent }
  | { kind: 'history'; items: HistoryItem[]; start?: number; subAgents?: SubAgentState[] }
  /** an event of a sub-agent's pod (`podId`), whose parent is `parentPodId` */
  | { kind: 'child'; podId: string; parentPodId: string; event: ChatEvent }
  /** an older page of the history, shown above what is loaded */
  | { kind: 'older'; items: HistoryItem[]; start: number }
  | { kind: 'send'; segments: Segment[] }
  | { kind: 'result'; result: ChatResult }
  | { kind: 'failed'; message: string }
  | { kind: 'pod'; model: string; contextTokens?: number; limits?: ContextLimits; settings?: PodSettings; sessionCostUsd?: number }
  /** the user raised the session budget of the turn stopped in the notice `key` (`yoi/budget/raise`); `text` says so */
  | { kind: 'budgetRaised'; key: number; text: string; sessionCostUsd?: number }
  /** the pod's settings as the user chose them (before its pod exists) or `yoi/pod/configure` answered */
  | { kind: 'settings'; model?: string; settings: PodSettings }
  | { kind: 'approval'; approval: PendingApproval }
  | { kind: 'approvalDone'; requestId: string }
  /** the server stopped: sub-agents shown running were lost */
  | { kind: 'lost' }
  | { kind: 'review'; callId: string; progress?: ReviewProgress };

/** Where the loaded history begins, while older pages exist. */
export interface HistoryPaging {
  /** the index of the first loaded item in the whole history (> 0) */
  start: number;
  /** results at the start of the loaded items whose calls are on the older page */
  orphans: Extract<HistoryItem, { kind: 'toolResult' }>[];
  /** restored sub-agents whose `spawn_agent` call is on an older page */
  agents?: SubAgentState[];
}

/** The fields of `source` that say something about the window (undefined when none). */
export function limitsOf(source: ContextLimits): ContextLimits | undefined {
  const limits: ContextLimits = {};
  if (source.contextWindow !== undefined) {
    limits.contextWindow = source.contextWindow;
  }
  if (source.contextWindowSource !== undefined) {
    limits.contextWindowSource = source.contextWindowSource;
  }
  if (source.compactAt !== undefined) {
    limits.compactAt = source.compactAt;
  }
  if (source.compactRequestAt !== undefined) {
    limits.compactRequestAt = source.compactRequestAt;
  }
  return Object.keys(limits).length === 0 ? undefined : limits;
}

export function emptyChat(): ChatState {
  return {
    entries: [],
    running: false,
    compacting: false,
    totals: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 },
    nextKey: 1,
    phaseEvents: false,
    turn: emptyTurn(),
    approvals: [],
  };
}

function emptyTurn(): TurnUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 };
}

function append(state: ChatState, entry: DistributiveOmit<Entry, 'key'>): ChatState {
  const withKey: Entry = { ...entry, key: state.nextKey };
  return { ...state, entries: [...state.entries, withKey], nextKey: state.nextKey + 1 };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function replaceAt(state: ChatState, index: number, entry: Entry): ChatState {
  const entries = state.entries.slice();
  entries[index] = entry;
  return { ...state, entries };
}

/** Close whatever text is still streaming (a new kind of entry follows). */
function settle(state: ChatState): ChatState {
  const index = state.entries.length - 1;
  const last = state.entries[index];
  if (last !== undefined && (last.kind === 'assistant' || last.kind === 'reasoning') && last.streaming) {
    return replaceAt(state, index, { ...last, streaming: false });
  }
  return state;
}

function appendText(state: ChatState, kind: 'assistant' | 'reasoning', text: string): ChatState {
  const index = state.entries.length - 1;
  const last = state.entries[index];
  if (last !== undefined && last.kind === kind && last.streaming) {
    return replaceAt(state, index, { ...last, text: last.text + text });
  }
  return append(settle(state), { kind, text, streaming: true });
}

function findTool(state: ChatState, callId: string): number {
  for (let i = state.entries.length - 1; i >= 0; i -= 1) {
    const entry = state.entries[i];
    if (entry !== undefined && entry.kind === 'tool' && entry.callId === callId) {
      return i;
    }
  }
  return -1;
}

function updateTool(
  state: ChatState,
  callId: string,
  update: (entry: Extract<Entry, { kind: 'tool' }>) => Extract<Entry, { kind: 'tool' }>,
): ChatState {
  const index = findTool(state, callId);
  const entry = state.entries[index];
  if (entry === undefined || entry.kind !== 'tool') {
    return state;
  }
  return replaceAt(state, index, update(entry));
}

/** Characters of a command's live output a chat keeps (it shows the last lines). */
export const LIVE_KEEP = 16384;

/** The end of `text`: at most LIVE_KEEP characters, from a line start when it was cut. */
export function liveTail(text: string): string {
  if (text.length <= LIVE_KEEP) {
    return text;
  }
  const cut = text.indexOf('\n', text.length - LIVE_KEEP);
  return cut === -1 ? text.slice(-LIVE_KEEP) : text.slice(cut + 1);
}

function notice(state: ChatState, level: AlertLevel, text: string, source?: string): ChatState {
  const entry: DistributiveOmit<Entry, 'key'> =
    source === undefined ? { kind: 'notice', level, text } : { kind: 'notice', level, text, source };
  return append(settle(state), entry);
}

/** Running tools of an ended turn will get no result. */
function stopRunningTools(state: ChatState, outcome: string): ChatState {
  let next = state;
  state.entries.forEach((entry, index) => {
    if (entry.kind === 'tool' && entry.status === 'running') {
      next = replaceAt(next, index, { ...entry, status: 'failed', summary: entry.summary ?? outcome });
    }
  });
  return next;
}

const OUTCOME_NOTES: Record<string, [AlertLevel, string] | undefined> = {
  interrupted: ['info', 'Stopped.'],
  paused: ['info', 'Paused: the agent is waiting for you.'],
  limitReached: ['warn', 'The turn reached its limit of steps. Send a message to continue.'],
};

function addUsage(turn: TurnUsage, event: Extract<ChatEvent, { type: 'usage' }>): TurnUsage {
  const next: TurnUsage = {
    inputTokens: turn.inputTokens + event.inputTokens,
    outputTokens: turn.outputTokens + event.outputTokens,
    cacheReadTokens: turn.cacheReadTokens + event.cacheReadTokens,
  };
  const cost = typeof event.costUsd === 'number' ? (turn.costUsd ?? 0) + event.costUsd : turn.costUsd;
  return cost === undefined ? next : { ...next, costUsd: cost };
}

/** The ended turn's usage as an entry (when it used any tokens), and a fresh count. */
function closeTurn(state: ChatState): ChatState {
  const turn = state.turn;
  const next = { ...state, turn: emptyTurn(), approvals: agentApprovals(state) };
  if (turn.inputTokens + turn.outputTokens === 0) {
    return next;
  }
  return append(next, { kind: 'usage', ...turn });
}

/** The approvals of sub-agents: they may outlive the parent's turn (a sub-agent in the background). */
function agentApprovals(state: ChatState): PendingApproval[] {
  return state.approvals.filter((a) => a.agentPodId !== undefined);
}

function reduceEvent(state: ChatState, event: ChatEvent): ChatState {
  const next = applyEvent(event.type === 'phase' ? { ...state, phaseEvents: true } : state, event);
  return withActivity(next, event);
}

function applyEvent(state: ChatState, event: ChatEvent): ChatState {
  switch (event.type) {
    case 'turnStart':
      return { ...settle(state), running: true };
    case 'textDelta':
      return appendText(state, 'assistant', event.text);
    case 'reasoningDelta':
      return appendText(state, 'reasoning', event.text);
    case 'toolCall':
      if (findTool(state, event.id) >= 0) {
        return state;
      }
      return append(settle(state), {
        kind: 'tool',
        callId: event.id,
        name: event.name,
        arguments: event.arguments,
        status: 'running',
        edits: [],
      });
    case 'toolResult':
      return updateTool(state, event.id, (tool) => {
        const done: Extract<Entry, { kind: 'tool' }> = {
          ...tool,
          status: event.ok ? 'ok' : 'failed',
          summary: event.summary,
          ...(typeof event.content === 'string' ? { content: event.content } : {}),
          edits: withOutcomes(tool.edits, event.edits),
        };
        delete done.live;
        return done;
      });
    case 'toolOutput':
      return updateTool(state, event.id, (tool) => (tool.status === 'running' ? { ...tool, live: liveTail((tool.live ?? '') + event.text) } : tool));
    case 'edit':
      return updateTool(state, event.id, (tool) => {
        const edit: EditState =
          event.message === undefined
            ? { uri: event.uri, status: event.status }
            : { uri: event.uri, status: event.status, message: event.message };
        const others = tool.edits.filter((e) => e.uri !== event.uri);
        return { ...tool, edits: [...others, edit] };
      });
    case 'usage':
      return {
        ...state,
        contextTokens: event.contextTokens,
        totals: {
          inputTokens: state.totals.inputTokens + event.inputTokens,
          outputTokens: state.totals.outputTokens + event.outputTokens,
          cacheReadTokens: state.totals.cacheReadTokens + event.cacheReadTokens,
        },
        turn: addUsage(state.turn, event),
        ...withLimits(limitsOf(event)),
        ...withSpend(state.spend, spendOf(event)),
      };
    case 'turnEnd': {
      let next: ChatState = { ...stopRunningTools(settle(state), event.outcome), running: false, planReady: state.mode === 'plan' && event.outcome === 'finished' };
      if (event.outcome === 'budgetExceeded') {
        next = budgetStop(next, event.error);
      } else if (event.outcome === 'error') {
        next = notice(next, 'error', event.error ?? 'The turn failed.');
      } else {
        const note = OUTCOME_NOTES[event.outcome];
        if (note !== undefined) {
          next = notice(next, note[0], note[1]);
        }
      }
      return closeTurn(next);
    }
    case 'compactStart':
      return notice({ ...state, compacting: true }, 'info', 'Compacting context…', 'compaction');
    case 'compactDone':
      // The pod's history is the new session's now: older pages of the old one are out of reach.
      return notice(withoutPaging({ ...state, compacting: false }), 'info', 'Context compacted; the conversation continues in a new session.', 'compaction');
    case 'compactFailed':
      return notice({ ...state, compacting: false }, 'error', `Compaction failed: ${event.error}`, 'compaction');
    case 'alert':
      return notice(state, event.level, event.message, event.source);
    case 'subAgent':
      return onSubAgent(settle(state), event);
    case 'config':
      return withSettings(state, event.model, event);
    default:
      return state; // an event type this client does not know (or `phase`, which only sets the activity)
  }
}

/** The spend a `usage` event tells: the session's once a request had a price (or the session spent something). */
function spendOf(event: Extract<ChatEvent, { type: 'usage' }>): Spend {
  const priced = typeof event.costUsd === 'number';
  const spend: Spend = {};
  if (typeof event.sessionCostUsd === 'number' && (priced || event.sessionCostUsd > 0)) {
    spend.sessionUsd = event.sessionCostUsd;
  }
  if (typeof event.turnCostUsd === 'number' && (priced || event.turnCostUsd > 0)) {
    spend.turnUsd = event.turnCostUsd;
  }
  if (typeof event.dayCostUsd === 'number' && (priced || event.dayCostUsd > 0)) {
    spend.dayUsd = event.dayCostUsd;
  }
  return spend;
}

function withSpend(current: Spend | undefined, update: Spend): { spend?: Spend } {
  const spend = { ...current, ...update };
  return Object.keys(spend).length === 0 ? {} : { spend };
}

/**
 * A turn stopped by a budget: its message (the alert that said it already,
 * or a new notice), with a "Raise Session Budget…" when a session limit stopped it.
 */
function budgetStop(state: ChatState, error: string | undefined): ChatState {
  const index = state.entries.length - 1;
  const last = state.entries[index];
  const text = error ?? (last?.kind === 'notice' && last.source === 'budget' ? last.text : 'A budget limit stopped the turn before its next request.');
  const raise = raiseKind(text);
  if (last?.kind === 'notice' && last.source === 'budget' && last.text === text) {
    return raise === undefined ? state : replaceAt(state, index, { ...last, raise });
  }
  const next = notice(state, 'error', text, 'budget');
  const added = next.entries[next.entries.length - 1];
  return raise === undefined || added?.kind !== 'notice' ? next : replaceAt(next, next.entries.length - 1, { ...added, raise });
}

/** The budget was raised: the notice loses its button, and a note says the user can send again. */
function budgetRaised(state: ChatState, key: number, text: string, sessionCostUsd: number | undefined): ChatState {
  const index = state.entries.findIndex((e) => e.key === key);
  const entry = state.entries[index];
  let next = state;
  if (entry?.kind === 'notice' && entry.raise !== undefined) {
    const plain = { ...entry };
    delete plain.raise;
    next = replaceAt(state, index, plain);
  }
  next = notice(next, 'info', text, 'budget');
  return sessionCostUsd === undefined || sessionCostUsd <= 0 ? next : { ...next, spend: { ...next.spend, sessionUsd: sessionCostUsd } };
}

/** The state with the pod's settings that `settings` carries (a mode other than plan withdraws "Execute plan"). */
function withSettings(state: ChatState, model: string | undefined, settings: PodSettings): ChatState {
  const next: ChatState = { ...state, ...(model === undefined ? {} : { model }) };
  if (settings.mode !== undefined) {
    next.mode = settings.mode;
    if (settings.mode !== 'plan') {
      next.planReady = false;
    }
  }
  if (settings.profile !== undefined) {
    next.profile = settings.profile;
  }
  if (settings.reasoningEffort !== undefined) {
    next.reasoningEffort = settings.reasoningEffort;
  }
  return next;
}

/** The settings of a state, to carry over a redraw from history. */
function settingsOf(state: ChatState): Pick<ChatState, 'mode' | 'profile' | 'reasoningEffort'> {
  return {
    ...(state.mode === undefined ? {} : { mode: state.mode }),
    ...(state.profile === undefined ? {} : { profile: state.profile }),
    ...(state.reasoningEffort === undefined ? {} : { reasoningEffort: state.reasoningEffort }),
  };
}

function withoutPaging(state: ChatState): ChatState {
  const next = { ...state };
  delete next.paging;
  return next;
}

function withLimits(limits: ContextLimits | undefined): { limits?: ContextLimits } {
  return limits === undefined ? {} : { limits };
}

/** The transcript of history items `start`… (keys from `firstKey`), with what an older page needs. */
function reduceHistory(items: HistoryItem[], model: string | undefined, start = 0, firstKey = 1, agents: readonly SubAgentState[] = []): ChatState {
  const orphans: HistoryPaging['orphans'] = [];
  let state: ChatState = { ...emptyChat(), nextKey: firstKey, ...(model === undefined ? {} : { model }) };
  for (const item of items) {
    switch (item.kind) {
      case 'message':
        if (item.role === 'user') {
          state = append(settle(state), {
            kind: 'user',
            segments: item.segments ?? [{ kind: 'text', text: item.text }],
          });
        } else if (item.role === 'assistant') {
          if (item.text !== '') {
            state = settle(appendText(settle(state), 'assistant', item.text));
          }
        } else {
          state = notice(state, 'info', item.text, 'system');
        }
        break;
      case 'reasoning':
        state = settle(appendText(settle(state), 'reasoning', item.text));
        break;
      case 'toolCall':
        state = reduceEvent(state, { type: 'toolCall', id: item.id, name: item.name, arguments: item.arguments });
        break;
      case 'toolResult':
        state = updateTool(state, item.id, (tool) => ({
          ...tool,
          status: item.ok ? 'ok' : 'failed',
          summary: item.summary,
          ...(item.content === undefined ? {} : { content: item.content }),
          edits: withOutcomes(tool.edits, item.edits),
        }));
        if (findTool(state, item.id) < 0) {
          orphans.push(item); // its call is on an older page
        }
        break;
      default:
        break;
    }
  }
  const placed = placeRestored(state, agents, start > 0);
  if (start === 0) {
    return placed.state;
  }
  return { ...placed.state, paging: { start, orphans, ...(placed.pending.length === 0 ? {} : { agents: placed.pending }) } };
}

export function reduce(state: ChatState, action: ChatAction): ChatState {
  switch (action.kind) {
    case 'event':
      return reduceEvent(state, action.event);
    case 'history': {
      const restored = reduceHistory(action.items, state.model, action.start, 1, action.subAgents);
      return {
        ...restored,
        ...(state.contextTokens === undefined ? {} : { contextTokens: state.contextTokens }),
        ...withLimits(state.limits),
        totals: state.totals,
        phaseEvents: state.phaseEvents,
        ...settingsOf(state),
        ...(state.spend === undefined ? {} : { spend: state.spend }),
      };
    }
    case 'older': {
      // Only the page that ends where the loaded history begins (a stale or repeated answer is dropped).
      const paging = state.paging;
      if (paging === undefined || action.start + action.items.length !== paging.start) {
        return state;
      }
      const older = reduceHistory([...action.items, ...paging.orphans], state.model, action.start, state.nextKey, paging.agents);
      const next = withoutPaging({ ...state, entries: [...older.entries, ...state.entries], nextKey: older.nextKey });
      return older.paging === undefined ? next : { ...next, paging: older.paging };
    }
    case 'send':
      return {
        ...append(settle(state), { kind: 'user', segments: action.segments }),
        running: true,
        activity: { phase: 'preparing' },
        turn: emptyTurn(),
        planReady: false,
      };
    case 'result': {
      // The events normally end the turn; the result also covers a lost turnEnd.
      if (!state.running) {
        return state;
      }
      const { inputTokens, outputTokens, cacheReadTokens } = action.result.usage;
      const counted = state.turn.inputTokens + state.turn.outputTokens > 0;
      return reduceEvent(counted ? state : { ...state, turn: { inputTokens, outputTokens, cacheReadTokens } }, {
        type: 'turnEnd',
        outcome: action.result.outcome,
        ...(action.result.error === undefined ? {} : { error: action.result.error }),
      });
    }
    case 'failed':
      return notice({ ...stopRunningTools(settle(idle(state)), 'failed'), running: false, approvals: agentApprovals(state) }, 'error', action.message);
    case 'child':
      return onChildEvent(state, action.podId, action.parentPodId, action.event, reduce);
    case 'lost':
      return lostAgents(state);
    case 'approval':
      if (state.approvals.some((a) => a.requestId === action.approval.requestId)) {
        return state;
      }
      return { ...state, approvals: [...state.approvals, action.approval] };
    case 'approvalDone':
      return { ...state, approvals: state.approvals.filter((a) => a.requestId !== action.requestId) };
    case 'review':
      if (findTool(state, action.callId) < 0) {
        return inAgentWithCall(state, action.callId, (transcript) => reduce(transcript, action)); // a sub-agent's edit
      }
      return updateTool(state, action.callId, (tool) => {
        const next = { ...tool };
        delete next.review;
        return action.progress === undefined ? next : { ...next, review: action.progress };
      });
    case 'pod':
      return withSettings(
        {
          ...state,
          model: action.model,
          ...(action.contextTokens === undefined ? {} : { contextTokens: action.contextTokens }),
          ...withLimits(action.limits ?? state.limits),
          ...(action.sessionCostUsd === undefined || action.sessionCostUsd <= 0 ? {} : withSpend(state.spend, { sessionUsd: action.sessionCostUsd })),
        },
        undefined,
        action.settings ?? {},
      );
    case 'settings':
      return withSettings(state, action.model, action.settings);
    case 'budgetRaised':
      return budgetRaised(state, action.key, action.text, action.sessionCostUsd);
  }
}

export function reduceAll(state: ChatState, actions: readonly ChatAction[]): ChatState {
  return actions.reduce(reduce, state);
}
