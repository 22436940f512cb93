/**
 * Answers `yoi/approval` (docs/protocol.md "Approvals"): by default inside the
 * chat — the tool row shows the command, its working directory and Allow /
 * Allow for this Session / Always allow in this workspace / Deny — or, with
 * `yoi.approvalPrompt: "modal"`, in a modal dialog. A request the server
 * withdraws (`$/cancelRequest`, when the turn is interrupted) disappears from
 * the chat.
 */

import * as vscode from 'vscode';
import { approvalChoices, approvalPrompt, approvalTarget, decisionFor } from '../logic/approval';
import { RESTORE_TOOL } from '../logic/checkpoints';
import { Method, type ApprovalDecision, type ApprovalParams, type ApprovalResult } from '../protocol';
import { confirmRestore } from './checkpoints';
import type { ChatManager } from './chats';
import type { ServerController } from './server';

interface Waiting {
  chatId: string;
  resolve: (decision: ApprovalDecision) => void;
}

export class ApprovalBroker implements vscode.Disposable {
  private readonly waiting = new Map<string, Waiting>();
  private counter = 0;

  constructor(
    server: ServerController,
    private readonly chats: ChatManager,
    private readonly reveal: (chatId: string) => Promise<void>,
  ) {
    server.onRequest<ApprovalParams>(Method.approval, (params, token) => this.ask(params, token));
    server.onDidStart(() => {
      for (const id of [...this.waiting.keys()]) {
        this.answer(id, 'deny');
      }
    });
  }

  async ask(params: ApprovalParams, token: vscode.CancellationToken): Promise<ApprovalResult> {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    // a sub-agent's request shows in its row, in the chat of its parent
    const chat = this.chats.chatOfAnyPod(params.podId);
    const agent = params.parentPodId === undefined ? undefined : (this.chats.agent(params.podId)?.entry.name ?? 'a sub-agent');
    const prompt = vscode.workspace.getConfiguration('yoi').get<string>('approvalPrompt', 'chat');
    if (params.tool === RESTORE_TOOL) {
      return { decision: await confirmRestore(params) }; // a restore's overwrite: no tool row to ask in
    }
    if (prompt === 'modal' || chat === undefined) {
      return { decision: await this.modal(params, root, agent) };
    }
    this.counter += 1;
    const requestId = `approval-${this.counter}`;
    const decision = new Promise<ApprovalDecision>((resolve) => {
      this.waiting.set(requestId, { chatId: chat.id, resolve });
    });
    const cancel = token.onCancellationRequested(() => this.answer(requestId, 'deny'));
    this.chats.apply(chat, {
      kind: 'approval',
      approval: {
        requestId,
        toolCallId: params.toolCallId,
        tool: params.tool,
        reason: params.reason,
        ...approvalTarget(params, root),
        ...(root === undefined ? { noWorkspace: true } : {}),
        ...(agent === undefined ? {} : { agentPodId: params.podId, agent }),
      },
    });
    void this.reveal(chat.id);
    try {
      return { decision: await decision };
    } finally {
      cancel.dispose();
    }
  }

  /** The user's answer from the chat (or the request was withdrawn). */
  answer(requestId: string, decision: ApprovalDecision): void {
    const waiting = this.waiting.get(requestId);
    if (waiting === undefined) {
      return;
    }
    this.waiting.delete(requestId);
    waiting.resolve(decision);
    const chat = this.chats.get(waiting.chatId);
    if (chat !== undefined) {
      this.chats.apply(chat, { kind: 'approvalDone', requestId });
    }
  }

  private async modal(params: ApprovalParams, root: string | undefined, agent: string | undefined): Promise<ApprovalDecision> {
    const prompt = approvalPrompt(params, root, agent);
    const choice = await vscode.window.showWarningMessage(
      prompt.message,
      { modal: true, detail: prompt.detail },
      ...approvalChoices(root).map((c) => ({ title: c.title, isCloseAffordance: c.isCloseAffordance })),
    );
    return decisionFor(choice?.title);
  }

  dispose(): void {
    for (const id of [...this.waiting.keys()]) {
      this.answer(id, 'deny');
    }
  }
}
