/**
 * A user message's checkpoint actions in the chat (docs/protocol.md
 * "Checkpoints, rewind and fork"): "Restore checkpoint" (files, conversation or
 * both, through `yoi/checkpoints/restore`; a file changed outside the agent is
 * confirmed through the usual `yoi/approval`), "Show changes since here" (VS
 * Code's diff editor per file, from `yoi/checkpoints/diff`'s before and after
 * texts as read-only virtual documents) and the turn "Edit and resend" forks
 * before.
 */

import * as vscode from 'vscode';
import { diffDocPath, RESTORE_CHOICES, restoreConfirmation, restoreSummary, turnOfMessage } from '../logic/checkpoints';
import {
  Method,
  type ApprovalDecision,
  type ApprovalParams,
  type CheckpointFileDiff,
  type CheckpointsDiffParams,
  type CheckpointsDiffResult,
  type CheckpointsListParams,
  type CheckpointsListResult,
  type CheckpointsRestoreParams,
  type CheckpointsRestoreResult,
} from '../protocol';
import type { Chat, ChatManager } from './chats';
import { describeError, type ServerController } from './server';

export const CHECKPOINT_SCHEME = 'yoi-checkpoint';

/**
 * The `yoi/approval` of a restore that would overwrite files changed outside
 * the agent (no tool row shows it in the chat): a modal dialog; "Show Changes"
 * opens the diffs and asks again.
 */
export async function confirmRestore(params: ApprovalParams): Promise<ApprovalDecision> {
  const prompt = restoreConfirmation(params);
  for (;;) {
    const choice = await vscode.window.showWarningMessage(prompt.message, { modal: true, detail: prompt.detail }, 'Overwrite', 'Show Changes');
    if (choice !== 'Show Changes') {
      return choice === 'Overwrite' ? 'allow' : 'deny';
    }
    const doc = await vscode.workspace.openTextDocument({ language: 'diff', content: prompt.diffs });
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}

export class CheckpointActions implements vscode.TextDocumentContentProvider, vscode.Disposable {
  /** the virtual documents' texts, by URI path */
  private readonly texts = new Map<string, string>();
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly server: ServerController,
    private readonly chats: ChatManager,
  ) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(CHECKPOINT_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }

  /** The turn of the user message drawn with `key` in `chat`, or undefined (told to the user). */
  async turnOf(chat: Chat, key: number): Promise<number | undefined> {
    if (chat.podId === undefined) {
      return undefined;
    }
    try {
      const params: CheckpointsListParams = { podId: chat.podId };
      const list = await this.server.request<CheckpointsListResult>(Method.checkpointsList, params);
      const turn = turnOfMessage(chat.state.entries, key, list.turns);
      if (turn === undefined) {
        void vscode.window.showWarningMessage('yoi has no checkpoint for this message.');
      }
      return turn;
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi could not list the checkpoints: ${describeError(error)}`);
      return undefined;
    }
  }

  /** "Restore checkpoint": pick what, then restore it; the chat redraws after a conversation restore. */
  async restore(chat: Chat, key: number): Promise<void> {
    if (chat.running) {
      void vscode.window.showWarningMessage('A turn is running; stop it before restoring a checkpoint.');
      return;
    }
    const choice = await vscode.window.showQuickPick(
      RESTORE_CHOICES.map((c) => ({ ...c })),
      { title: 'Restore checkpoint: back to before this message', placeHolder: 'What to restore' },
    );
    const turn = choice === undefined ? undefined : await this.turnOf(chat, key);
    if (choice === undefined || turn === undefined || chat.podId === undefined) {
      return;
    }
    const params: CheckpointsRestoreParams = { podId: chat.podId, turn, files: choice.files, conversation: choice.conversation };
    let result: CheckpointsRestoreResult;
    try {
      result = await this.server.request<CheckpointsRestoreResult>(Method.checkpointsRestore, params);
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi restored nothing: ${describeError(error)}`);
      return;
    }
    if (result.forkedFrom !== undefined) {
      await this.chats.redraw(chat).catch((error: unknown) => {
        void vscode.window.showErrorMessage(`yoi could not show the restored conversation: ${describeError(error)}`);
      });
    }
    const summary = restoreSummary(result, choice.files);
    this.chats.apply(chat, { kind: 'event', event: { type: 'alert', level: 'info', source: 'checkpoints', message: summary } });
    void vscode.window.showInformationMessage(summary);
  }

  /** "Show changes since here": a diff editor for the one changed file, or a pick of them. */
  async showChanges(chat: Chat, key: number): Promise<void> {
    const turn = await this.turnOf(chat, key);
    if (turn === undefined || chat.podId === undefined) {
      return;
    }
    let result: CheckpointsDiffResult;
    try {
      const params: CheckpointsDiffParams = { podId: chat.podId, turn };
      result = await this.server.request<CheckpointsDiffResult>(Method.checkpointsDiff, params);
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi could not diff the checkpoint: ${describeError(error)}`);
      return;
    }
    if (result.files.length === 0) {
      void vscode.window.showInformationMessage('Nothing changed since this message.');
      return;
    }
    if (result.files.length === 1 && result.files[0] !== undefined) {
      await this.openDiff(turn, result.files[0]);
      return;
    }
    const picked = await vscode.window.showQuickPick(
      result.files.map((file) => ({ label: file.path, description: file.status, file })),
      { title: `Changed since message ${turn}`, placeHolder: 'A file to compare', canPickMany: true },
    );
    for (const item of picked ?? []) {
      await this.openDiff(turn, item.file);
    }
  }

  private async openDiff(turn: number, file: CheckpointFileDiff): Promise<void> {
    if (file.before === null && file.after === null) {
      void vscode.window.showInformationMessage(`${file.path} is binary (${file.status}); yoi cannot show it side by side.`);
      return;
    }
    const side = (which: 'before' | 'after', text: string | null): vscode.Uri => {
      const path = diffDocPath(turn, which, file.path);
      this.texts.set(path, text ?? '');
      return vscode.Uri.from({ scheme: CHECKPOINT_SCHEME, path });
    };
    const title = `${file.path} (since message ${turn}, ${file.status})`;
    await vscode.commands.executeCommand('vscode.diff', side('before', file.before), side('after', file.after), title, { preview: false });
  }

  dispose(): void {
    this.registration.dispose();
  }
}
