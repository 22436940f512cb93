/**
 * The open chats of this window. Each chat is one pod on the server (created
 * on first use, or resumed from its session after a reload or a server
 * restart) and one ChatState, reduced from the pod's events. The chat view
 * shows the active chat; the list survives window reloads.
 */

import * as vscode from 'vscode';
import { emptyChat, limitsOf, reduce, type ChatAction, type ChatState } from '../logic/chatState';
import { imageSegments, type PendingImage } from '../logic/images';
import { parseInput } from '../logic/mentions';
import { chatTitle } from '../logic/sessions';
import { agentOf, hasCall, type AgentEntry } from '../logic/subAgents';
import type { ChatTab } from '../messages';
import {
  ErrorCode,
  Method,
  type ChatEvent,
  type ChatParams,
  type ChatResult,
  type EventParams,
  type PodConfigureParams,
  type PodConfigureResult,
  type PodCreateParams,
  type PodCreateResult,
  type PodListResult,
  type PodParams,
  type PodSettings,
  type ReferenceKind,
  type SessionResendParams,
  type ToolCancelParams,
  type ToolCancelResult,
} from '../protocol';
import { AgentPods } from './agentPods';
import { HistoryReader } from './history';
import { describeError, hasErrorCode, type ServerController } from './server';

interface StoredChat {
  id: string;
  title: string;
  sessionId?: string;
}

const STORE_KEY = 'yoi.chats';
const ACTIVE_KEY = 'yoi.activeChat';

export class Chat {
  podId: string | undefined;
  sessionId: string | undefined;
  state: ChatState = emptyChat();
  /** history was loaded (or there is none to load) */
  restored = false;
  opening: Promise<string> | undefined;
  turn: vscode.CancellationTokenSource | undefined;
  /** an older page of the history is being fetched */
  loadingOlder = false;
  /** settings chosen before the chat has a pod: `yoi/pod/create` starts it with them */
  pending: Omit<PodConfigureParams, 'podId'> = {};

  constructor(
    readonly id: string,
    public title: string,
  ) {}

  /** a turn is running (read through a getter: it changes across awaits) */
  get running(): boolean {
    return this.state.running;
  }

  get tab(): ChatTab {
    return { id: this.id, title: this.title };
  }
}

export type ChatChange =
  | { kind: 'action'; chatId: string; action: ChatAction }
  | { kind: 'reset'; chatId: string }
  | { kind: 'tabs' };

export class ChatManager implements vscode.Disposable {
  private chats: Chat[] = [];
  private activeId: string;
  private counter = 0;
  private readonly changed = new vscode.EventEmitter<ChatChange>();
  /** events for pods whose create answer has not arrived yet */
  private readonly early = new Map<string, ChatEvent[]>();
  private readonly agentPods = new AgentPods();
  readonly onDidChange = this.changed.event;
  private readonly history: HistoryReader;

  constructor(
    private readonly server: ServerController,
    private readonly memento: vscode.Memento,
  ) {
    const stored = memento.get<StoredChat[]>(STORE_KEY, []);
    for (const s of stored) {
      const chat = new Chat(s.id, s.title);
      chat.sessionId = s.sessionId;
      chat.restored = s.sessionId === undefined;
      this.chats.push(chat);
      this.counter = Math.max(this.counter, Number(/\d+$/.exec(s.id)?.[0] ?? 0));
    }
    if (this.chats.length === 0) {
      this.chats.push(this.makeChat());
    }
    const active = memento.get<string>(ACTIVE_KEY);
    this.activeId = this.chats.some((c) => c.id === active) ? (active ?? '') : (this.chats[0]?.id ?? '');
    this.history = new HistoryReader(server);
    server.onNotification<EventParams>(Method.event, (params) => this.onEvent(params));
    server.onDidStart(() => this.onServerStart());
  }

  get active(): Chat {
    const chat = this.chats.find((c) => c.id === this.activeId) ?? this.chats[0];
    if (chat === undefined) {
      throw new Error('There is always one chat.');
    }
    return chat;
  }

  get tabs(): ChatTab[] {
    return this.chats.map((c) => c.tab);
  }

  get all(): readonly Chat[] {
    return this.chats;
  }

  get(chatId: string): Chat | undefined {
    return this.chats.find((c) => c.id === chatId);
  }

  // ------------------------------------------------------------ chat list

  private makeChat(sessionId?: string, title?: string): Chat {
    this.counter += 1;
    const chat = new Chat(`chat-${this.counter}`, title ?? `Chat ${this.counter}`);
    if (sessionId !== undefined) {
      chat.sessionId = sessionId;
    } else {
      chat.restored = true;
    }
    return chat;
  }

  private persist(): void {
    const stored: StoredChat[] = this.chats.map((c) => ({
      id: c.id,
      title: c.title,
      ...(c.sessionId === undefined ? {} : { sessionId: c.sessionId }),
    }));
    void this.memento.update(STORE_KEY, stored);
    void this.memento.update(ACTIVE_KEY, this.activeId);
  }

  /** A new empty chat, unless the active one is still empty. */
  newChat(): Chat {
    const current = this.active;
    if (current.state.entries.length === 0 && current.sessionId === undefined) {
      return current;
    }
    const chat = this.makeChat();
    this.chats.push(chat);
    this.activate(chat);
    return chat;
  }

  switchTo(chatId: string): void {
    const chat = this.get(chatId);
    if (chat !== undefined) {
      this.activate(chat);
    }
  }

  private activate(chat: Chat): void {
    this.activeId = chat.id;
    this.persist();
    this.changed.fire({ kind: 'reset', chatId: chat.id });
    if (!chat.restored) {
      void this.open(chat).catch(() => undefined);
    }
  }

  async close(chatId: string): Promise<void> {
    const chat = this.get(chatId);
    if (chat === undefined) {
      return;
    }
    this.chats = this.chats.filter((c) => c !== chat);
    if (this.chats.length === 0) {
      this.chats.push(this.makeChat());
    }
    if (this.activeId === chatId) {
      this.activate(this.chats[this.chats.length - 1] ?? this.active);
    } else {
      this.persist();
      this.changed.fire({ kind: 'tabs' });
    }
    if (chat.podId !== undefined) {
      const params: PodParams = { podId: chat.podId };
      await this.server.request(Method.podDispose, params).catch(() => undefined);
    }
  }

  /** Open a stored session: switch to its chat, or restore it in a new one. */
  async resume(sessionId: string, title: string): Promise<void> {
    const existing = this.chats.find((c) => c.sessionId === sessionId);
    if (existing !== undefined) {
      this.activate(existing);
      return;
    }
    const current = this.active;
    const reuse = current.state.entries.length === 0 && current.sessionId === undefined && current.podId === undefined;
    const chat = this.makeChat(sessionId, chatTitle(title, 'Resumed chat'));
    if (reuse) {
      this.chats = this.chats.map((c) => (c === current ? chat : c));
    } else {
      this.chats.push(chat);
    }
    this.activate(chat);
    await this.open(chat);
  }

  // ------------------------------------------------------------ state

  /** The chat of a pod. */
  chatOfPod(podId: string): Chat | undefined {
    return this.chats.find((c) => c.podId === podId);
  }

  /** The chat showing the pod: its own, or one of its sub-agents' (at any depth). */
  chatOfAnyPod(podId: string): Chat | undefined {
    const agentChat = this.agentPods.chatId(podId);
    return this.chatOfPod(podId) ?? (agentChat === undefined ? undefined : this.get(agentChat));
  }

  /** The row of the sub-agent pod, and its chat. */
  agent(podId: string): { chat: Chat; entry: AgentEntry } | undefined {
    const chat = this.chatOfAnyPod(podId);
    const entry = chat === undefined ? undefined : agentOf(chat.state, podId);
    return chat === undefined || entry === undefined ? undefined : { chat, entry };
  }

  /** The chat with a tool call (its pod's, or a sub-agent's). */
  chatOfCall(callId: string): Chat | undefined {
    return this.chats.find((c) => hasCall(c.state, callId));
  }

  /** Apply an action that does not come from the pod's events (approvals, reviews). */
  apply(chat: Chat, action: ChatAction): void {
    this.dispatch(chat, action);
  }

  private dispatch(chat: Chat, action: ChatAction): void {
    chat.state = reduce(chat.state, action);
    this.changed.fire({ kind: 'action', chatId: chat.id, action });
  }

  private onEvent(params: EventParams): void {
    if (params.parentPodId !== undefined) {
      this.onChildEvent(params, params.parentPodId);
      return;
    }
    const chat = this.chats.find((c) => c.podId === params.podId);
    if (chat === undefined) {
      const list = this.early.get(params.podId) ?? [];
      list.push(params.event);
      this.early.set(params.podId, list);
      return;
    }
    if (params.event.type === 'compactDone') {
      chat.sessionId = params.event.sessionId; // the pod now writes to the compacted session
      this.persist();
    }
    this.agentPods.noteEvent(chat.id, params);
    this.dispatch(chat, { kind: 'event', event: params.event });
    if (params.event.type === 'compactDone' && !chat.running) {
      void this.refreshPod(chat, params.podId); // the compacted context's size (no request told it yet)
    }
  }

  /** A sub-agent's event: into its row's transcript, in the chat of its parent (dropped when none shows it). */
  private onChildEvent(params: EventParams, parentPodId: string): void {
    const chat = this.chatOfAnyPod(parentPodId);
    if (chat === undefined) {
      return;
    }
    this.agentPods.noteEvent(chat.id, params);
    this.dispatch(chat, { kind: 'child', podId: params.podId, parentPodId, event: params.event });
  }

  private onServerStart(): void {
    this.early.clear();
    this.agentPods.clear();
    for (const chat of this.chats) {
      if (chat.state.entries.some((e) => e.kind === 'agent' && e.status === 'running')) {
        this.dispatch(chat, { kind: 'lost' });
      }
      chat.podId = undefined;
      chat.opening = undefined;
      chat.turn?.dispose();
      chat.turn = undefined;
      if (chat.state.running) {
        this.dispatch(chat, { kind: 'failed', message: 'The yoi server restarted; the running turn was lost.' });
      }
    }
    const active = this.active;
    if (active.sessionId !== undefined) {
      active.restored = false;
      void this.open(active).catch(() => undefined);
    }
  }

  // ------------------------------------------------------------ pods

  /** The chat's pod: created, or resumed from its session (restoring the transcript). */
  open(chat: Chat): Promise<string> {
    if (chat.podId !== undefined) {
      return Promise.resolve(chat.podId);
    }
    chat.opening ??= this.createPod(chat).finally(() => {
      chat.opening = undefined;
    });
    return chat.opening;
  }

  private async createPod(chat: Chat): Promise<string> {
    const model = chat.pending.model ?? vscode.workspace.getConfiguration('yoi').get<string>('model', '').trim();
    const { mode, profile } = chat.pending;
    const params: PodCreateParams = {
      name: chat.title,
      ...(model === '' ? {} : { model }),
      ...(chat.sessionId === undefined
        ? { ...(mode === undefined ? {} : { mode }), ...(profile === undefined || profile === '' ? {} : { profile }) }
        : { resumeSessionId: chat.sessionId }),
    };
    let result: PodCreateResult;
    try {
      result = await this.server.request<PodCreateResult>(Method.podCreate, params);
    } catch (error) {
      if (profile !== undefined && chat.sessionId === undefined && hasErrorCode(error, ErrorCode.invalidParams)) {
        // an unknown profile (the server names the ones there are): the next message goes without it
        delete chat.pending.profile;
        this.dispatch(chat, { kind: 'settings', settings: { profile: null } });
      }
      if (chat.sessionId !== undefined && hasErrorCode(error, ErrorCode.invalidParams)) {
        // The session is gone (deleted, or never written): start afresh.
        this.dispatch(chat, { kind: 'failed', message: `Session ${chat.sessionId} could not be restored (${describeError(error)}); this chat starts a new one.` });
        chat.sessionId = undefined;
        chat.restored = true;
        this.persist();
        return this.createPod(chat);
      }
      this.dispatch(chat, { kind: 'failed', message: describeError(error) });
      throw error;
    }
    chat.podId = result.podId;
    chat.sessionId = result.sessionId;
    chat.pending = {};
    this.persist();
    this.dispatch(chat, { kind: 'pod', model: result.model, settings: settingsOf(result) });
    if (result.restored && !chat.restored) {
      const history = await this.history.latest(result.podId);
      this.dispatch(chat, history.action);
      this.agentPods.noteHistory(chat.id, history.result);
      await this.refreshPod(chat, result.podId);
    } else {
      void this.refreshPod(chat, result.podId); // the window and the thresholds, when the manifest sets them
    }
    chat.restored = true;
    const early = this.early.get(result.podId) ?? [];
    this.early.delete(result.podId);
    for (const event of early) {
      this.dispatch(chat, { kind: 'event', event });
    }
    return result.podId;
  }

  /** The pod's context size, window and thresholds, from `yoi/pod/list`. */
  private async refreshPod(chat: Chat, podId: string): Promise<void> {
    const pods = await this.server.request<PodListResult>(Method.podList, {}).catch(() => ({ pods: [] }));
    const info = pods.pods.find((p) => p.podId === podId);
    if (info !== undefined && chat.podId === podId) {
      const limits = limitsOf(info);
      const cost = info.sessionCostUsd === undefined ? {} : { sessionCostUsd: info.sessionCostUsd };
      this.dispatch(chat, { kind: 'pod', model: info.model, contextTokens: info.contextTokens, ...(limits === undefined ? {} : { limits }), settings: settingsOf(info), ...cost });
    }
  }

  /**
   * Change the chat's model, mode or profile (`yoi/pod/configure`). A chat
   * with no conversation yet keeps them for the pod it creates with its first
   * message. Rejects with the server's error (busy during a turn, -32602).
   */
  async configure(chatId: string, change: Omit<PodConfigureParams, 'podId'>): Promise<void> {
    const chat = this.get(chatId);
    if (chat === undefined) {
      return;
    }
    if (chat.podId === undefined && chat.sessionId === undefined && chat.opening === undefined) {
      chat.pending = { ...chat.pending, ...change };
      const settings: PodSettings = {
        ...(change.mode === undefined ? {} : { mode: change.mode }),
        ...(change.profile === undefined ? {} : { profile: change.profile === '' ? null : change.profile }),
        ...(change.reasoningEffort === undefined ? {} : { reasoningEffort: change.reasoningEffort === '' ? null : change.reasoningEffort }),
      };
      this.dispatch(chat, { kind: 'settings', ...(change.model === undefined ? {} : { model: change.model }), settings });
      return;
    }
    const podId = await this.open(chat);
    const params: PodConfigureParams = { podId, ...change };
    const result = await this.server.request<PodConfigureResult>(Method.podConfigure, params);
    if (chat.podId === podId) {
      this.dispatch(chat, { kind: 'settings', model: result.model, settings: settingsOf(result) }); // the config event says it too
    }
  }

  /** Load the page of history before what the chat shows (the user scrolled to its top). */
  async loadOlder(chatId: string): Promise<void> {
    const chat = this.get(chatId);
    const paging = chat?.state.paging;
    if (chat?.podId === undefined || paging === undefined || chat.loadingOlder) {
      return;
    }
    chat.loadingOlder = true;
    try {
      const older = await this.history.before(chat.podId, paging.start, chat.sessionId);
      if (older !== undefined) {
        this.dispatch(chat, older);
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi could not load the earlier messages: ${describeError(error)}`);
    } finally {
      chat.loadingOlder = false;
    }
  }

  // ------------------------------------------------------------ turns

  /**
   * Show the pod's history again from `yoi/pod/history` (after a conversation
   * restore: the pod continues in a fork, another session).
   */
  async redraw(chat: Chat): Promise<void> {
    if (chat.podId === undefined) {
      return;
    }
    const history = await this.history.latest(chat.podId);
    chat.sessionId = history.result.sessionId;
    this.persist();
    this.dispatch(chat, history.action);
    this.agentPods.noteHistory(chat.id, history.result);
  }

  /**
   * Send a message; with `resend`, instead of the user message drawn with
   * `resend.key` (its turn `resend.turn`): the transcript drops that message
   * and what followed, and `yoi/session/resend` forks before it and runs this one.
   */
  async send(chatId: string, text: string, references: { kind: ReferenceKind; value: string }[], images: PendingImage[] = [], resend?: { turn: number; key: number }): Promise<void> {
    const chat = this.get(chatId);
    if (chat === undefined || chat.state.running) {
      return;
    }
    const known = {
      files: new Set(references.filter((r) => r.kind === 'file').map((r) => r.value)),
      knowledge: new Set(references.filter((r) => r.kind === 'knowledge').map((r) => r.value)),
      workflows: new Set(references.filter((r) => r.kind === 'workflow').map((r) => r.value)),
    };
    const segments = [...parseInput(text, known), ...imageSegments(images)];
    if (segments.length === 0) {
      return;
    }
    if (chat.sessionId === undefined && chat.state.entries.length === 0) {
      chat.title = chatTitle(text, chat.title);
      this.persist();
      this.changed.fire({ kind: 'tabs' });
    }
    if (resend !== undefined) {
      const cut = chat.state.entries.findIndex((e) => e.key === resend.key);
      chat.state = { ...chat.state, entries: cut < 0 ? chat.state.entries : chat.state.entries.slice(0, cut) };
      this.changed.fire({ kind: 'reset', chatId: chat.id });
    }
    this.dispatch(chat, { kind: 'send', segments });
    const turn = new vscode.CancellationTokenSource();
    chat.turn = turn;
    try {
      const podId = await this.open(chat);
      const params: ChatParams | SessionResendParams = resend === undefined ? { podId, input: segments } : { podId, turn: resend.turn, input: segments };
      const result = await this.server.request<ChatResult>(resend === undefined ? Method.chat : Method.sessionResend, params, turn.token);
      if (chat.sessionId !== result.sessionId) {
        chat.sessionId = result.sessionId;
        this.persist();
      }
      this.dispatch(chat, { kind: 'result', result });
    } catch (error) {
      if (resend !== undefined) {
        await this.redraw(chat).catch(() => undefined); // what the pod's session holds now: the fork, or still the old one
      }
      if (chat.running || resend !== undefined) {
        this.dispatch(chat, { kind: 'failed', message: describeError(error) });
      }
    } finally {
      turn.dispose();
      if (chat.turn === turn) {
        chat.turn = undefined;
      }
    }
  }

  async stop(chatId: string): Promise<void> {
    const chat = this.get(chatId);
    if (chat?.podId === undefined) {
      return;
    }
    try {
      await this.server.request(Method.podInterrupt, { podId: chat.podId } satisfies PodParams);
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi could not stop the turn: ${describeError(error)}`);
    }
  }

  /** Stop a sub-agent's run (the parent is told, and goes on). */
  async stopAgent(podId: string): Promise<void> {
    try {
      await this.server.request(Method.podInterrupt, { podId } satisfies PodParams);
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi could not stop the sub-agent: ${describeError(error)}`);
    }
  }

  /** Stop one running command (of the chat's pod, or of its sub-agent `agentPodId`); the turn goes on (the model gets its output so far). */
  async stopTool(chatId: string, callId: string, agentPodId?: string): Promise<void> {
    const chat = this.get(chatId);
    const podId = agentPodId ?? chat?.podId;
    if (podId === undefined) {
      return;
    }
    try {
      await this.server.request<ToolCancelResult>(Method.toolCancel, { podId, callId } satisfies ToolCancelParams);
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi could not stop the command: ${describeError(error)}`);
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** The settings a `yoi/pod/create`, `yoi/pod/list` or `yoi/pod/configure` answer carries (none from older servers). */
function settingsOf(source: PodSettings): PodSettings {
  return {
    ...(source.mode === undefined ? {} : { mode: source.mode }),
    ...(source.profile === undefined ? {} : { profile: source.profile }),
    ...(source.reasoningEffort === undefined ? {} : { reasoningEffort: source.reasoningEffort }),
  };
}
