/** The chat webview view: its page, and the messages between it and the chats. */

import * as path from 'node:path';
import * as vscode from 'vscode';
import { chatHtml, makeNonce } from '../chatHtml';
import type { HostMessage, ReviewAction, WebviewMessage } from '../messages';
import { Method, type ApprovalDecision, type PodMode, type ReferenceItem, type ReferencesCompleteParams, type ReferencesCompleteResult } from '../protocol';
import { CheckpointActions } from './checkpoints';
import type { ChatChange, ChatManager } from './chats';
import type { ServerController } from './server';

export const CHAT_VIEW_ID = 'yoi.chat';

/** What the chat's buttons ask of the rest of the extension. */
export interface ChatViewActions {
  approve(requestId: string, decision: ApprovalDecision): void;
  review(callId: string, action: ReviewAction): Promise<void>;
  /** switch the active chat's mode; false when refused (the user was told) */
  setMode(mode: PodMode): Promise<boolean>;
  executePlan(): Promise<void>;
  /** "Raise Session Budget…" of the active chat's notice `key` */
  raiseBudget(key: number): Promise<void>;
}

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private readonly queue: HostMessage[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];
  /** set by the composition root once the approvals and reviews exist */
  actions: ChatViewActions | undefined;
  /** a user message's checkpoint buttons */
  private readonly checkpoints: CheckpointActions;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly chats: ChatManager,
    private readonly server: ServerController,
  ) {
    this.checkpoints = new CheckpointActions(server, chats);
    this.subscriptions.push(chats.onDidChange((change) => this.onChatChange(change)));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    const asUri = (...parts: string[]): string => view.webview.asWebviewUri(vscode.Uri.joinPath(dist, ...parts)).toString();
    view.webview.html = chatHtml({
      cspSource: view.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asUri('webview.js'),
      styleUri: asUri('chat.css'),
      codiconsUri: asUri('codicons', 'codicon.css'),
    });
    view.webview.onDidReceiveMessage((m: WebviewMessage) => void this.onMessage(m), undefined, this.subscriptions);
    view.onDidDispose(() => {
      this.view = undefined;
      this.ready = false;
    });
    this.updateTitle();
  }

  /** Show the view and put text (a reference) into its input. */
  async insert(message: Extract<HostMessage, { type: 'insert' }>): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
    this.post(message);
  }

  /** Make a chat visible (an approval waits in it), without taking the focus from an editor. */
  async revealChat(chatId: string): Promise<void> {
    if (this.chats.active.id !== chatId) {
      this.chats.switchTo(chatId);
    }
    if (this.view === undefined) {
      await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
    } else if (!this.view.visible) {
      this.view.show(true);
    }
  }

  async focus(): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
    this.post({ type: 'focus' });
  }

  private post(message: HostMessage): void {
    if (this.view === undefined || !this.ready) {
      if (message.type === 'insert' || message.type === 'focus') {
        this.queue.push(message);
      }
      return;
    }
    void this.view.webview.postMessage(message);
  }

  private reset(): void {
    const chat = this.chats.active;
    this.post({ type: 'reset', chatId: chat.id, state: chat.state, tabs: this.chats.tabs });
    this.updateTitle();
  }

  private updateTitle(): void {
    if (this.view !== undefined) {
      this.view.description = this.chats.all.length > 1 ? this.chats.active.title : '';
    }
  }

  private onChatChange(change: ChatChange): void {
    switch (change.kind) {
      case 'action':
        if (change.chatId === this.chats.active.id) {
          this.post({ type: 'action', chatId: change.chatId, action: change.action });
        }
        break;
      case 'reset':
        if (change.chatId === this.chats.active.id) {
          this.reset();
        }
        break;
      case 'tabs':
        this.post({ type: 'tabs', tabs: this.chats.tabs, active: this.chats.active.id });
        this.updateTitle();
        break;
    }
  }

  private async onMessage(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        this.reset();
        for (const queued of this.queue.splice(0)) {
          this.post(queued);
        }
        const chat = this.chats.active;
        if (!chat.restored) {
          void this.chats.open(chat).catch(() => undefined);
        }
        break;
      }
      case 'send': {
        const chat = this.chats.active;
        if (message.resendKey === undefined) {
          await this.chats.send(chat.id, message.text, message.references, message.images);
          break;
        }
        const turn = chat.running ? undefined : await this.checkpoints.turnOf(chat, message.resendKey);
        if (turn !== undefined) {
          await this.chats.send(chat.id, message.text, message.references, message.images, { turn, key: message.resendKey });
        }
        break;
      }
      case 'checkpoint':
        if (message.action === 'restore') {
          await this.checkpoints.restore(this.chats.active, message.key);
        } else {
          await this.checkpoints.showChanges(this.chats.active, message.key);
        }
        break;
      case 'stop':
        await this.chats.stop(this.chats.active.id);
        break;
      case 'complete':
        this.post({ type: 'completions', requestId: message.requestId, items: await this.complete(message) });
        break;
      case 'newChat':
        this.chats.newChat();
        break;
      case 'switchChat':
        this.chats.switchTo(message.chatId);
        break;
      case 'closeChat':
        await this.chats.close(message.chatId);
        break;
      case 'openFile':
        await openWorkspaceFile(message.path, message.line);
        break;
      case 'approve':
        this.actions?.approve(message.requestId, message.decision);
        break;
      case 'review':
        await this.actions?.review(message.callId, message.action);
        break;
      case 'stopTool':
        await this.chats.stopTool(this.chats.active.id, message.callId, message.agentPodId);
        break;
      case 'stopAgent':
        await this.chats.stopAgent(message.podId);
        break;
      case 'loadOlder':
        await this.chats.loadOlder(this.chats.active.id);
        break;
      case 'setMode':
        await this.actions?.setMode(message.mode); // the picker shows the mode once the chat has it
        break;
      case 'executePlan':
        await this.actions?.executePlan();
        break;
      case 'raiseBudget':
        await this.actions?.raiseBudget(message.key);
        break;
    }
  }

  private async complete(message: Extract<WebviewMessage, { type: 'complete' }>): Promise<ReferenceItem[]> {
    const params: ReferencesCompleteParams = { prefix: message.prefix, kind: message.kind, limit: 30 };
    try {
      const result = await this.server.request<ReferencesCompleteResult>(Method.referencesComplete, params);
      return result.items;
    } catch {
      return [];
    }
  }

  dispose(): void {
    this.checkpoints.dispose();
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}

export async function openWorkspaceFile(file: string, line?: number): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = file.startsWith('file://')
    ? vscode.Uri.parse(file)
    : path.isAbsolute(file) || folder === undefined
      ? vscode.Uri.file(file)
      : vscode.Uri.joinPath(folder, file);
  const options: vscode.TextDocumentShowOptions = line === undefined ? {} : { selection: new vscode.Range(line, 0, line, 0) };
  await vscode.window.showTextDocument(uri, options);
}
