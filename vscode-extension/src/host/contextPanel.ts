/**
 * `Yoi: Show Context`: a panel with what fills the active chat's context
 * window (`yoi/pod/context`), part by part. Refreshed by its button, when the
 * active chat changes, and after each turn (or compaction) while it is open.
 */

import * as vscode from 'vscode';
import { makeNonce } from '../chatHtml';
import { contextHtml } from '../contextHtml';
import { contextView } from '../logic/context';
import type { ContextHostMessage, ContextWebviewMessage } from '../messages';
import { Method, type PodContextResult, type PodParams } from '../protocol';
import type { ChatChange, ChatManager } from './chats';
import { describeError, type ServerController } from './server';

export const SHOW_CONTEXT = 'yoi.showContext';
const VIEW_TYPE = 'yoi.context';

/** The events after which the context has changed for good (the turn is over). */
function endsTurn(change: ChatChange): boolean {
  if (change.kind !== 'action') {
    return false;
  }
  const action = change.action;
  return action.kind === 'result' || action.kind === 'failed' || (action.kind === 'event' && (action.event.type === 'turnEnd' || action.event.type === 'compactDone'));
}

export class ContextPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** a refresh asked for while one runs: run once more after it */
  private loading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly chats: ChatManager,
    private readonly server: ServerController,
  ) {
    this.subscriptions.push(
      chats.onDidChange((change) => {
        if (this.panel === undefined) {
          return;
        }
        const active = change.kind !== 'tabs' && change.chatId === this.chats.active.id;
        if (active && (change.kind === 'reset' || endsTurn(change))) {
          void this.refresh();
        }
      }),
    );
  }

  show(): void {
    if (this.panel !== undefined) {
      this.panel.reveal(undefined, false);
      void this.refresh();
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'yoi: Context', { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, {
      enableScripts: true,
      localResourceRoots: [dist],
    });
    this.panel = panel;
    this.ready = false;
    const asUri = (...parts: string[]): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, ...parts)).toString();
    panel.webview.html = contextHtml({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asUri('context.js'),
      styleUri: asUri('context.css'),
      codiconsUri: asUri('codicons', 'codicon.css'),
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'yoi.svg');
    panel.webview.onDidReceiveMessage((message: ContextWebviewMessage) => {
      if (message.type === 'ready') {
        this.ready = true;
      }
      void this.refresh();
    });
    panel.onDidChangeViewState(() => {
      if (panel.visible) {
        void this.refresh(); // a hidden panel's page was dropped: it loads again
      }
    });
    panel.onDidDispose(() => {
      if (this.panel === panel) {
        this.panel = undefined;
        this.ready = false;
      }
    });
  }

  private post(message: ContextHostMessage): void {
    if (this.panel !== undefined && this.ready) {
      void this.panel.webview.postMessage(message);
    }
  }

  /** Ask the server for the active chat's context and show it (one request at a time). */
  async refresh(): Promise<void> {
    if (this.loading !== undefined) {
      this.again = true;
      return this.loading;
    }
    this.loading = this.load().finally(() => {
      this.loading = undefined;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    if (this.panel === undefined || !this.ready) {
      return;
    }
    const chat = this.chats.active;
    this.panel.title = `yoi: Context — ${chat.title}`;
    this.post({ type: 'loading' });
    try {
      const podId = await this.chats.open(chat); // a chat with no message yet: its pod's system prompt and tools
      const params: PodParams = { podId };
      const result = await this.server.request<PodContextResult>(Method.podContext, params);
      this.post({ type: 'context', view: contextView(result), chat: chat.title });
    } catch (error) {
      this.post({ type: 'message', text: `yoi could not tell what fills the context: ${describeError(error)}` });
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}
