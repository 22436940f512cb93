/**
 * `Yoi: Manage Approval Rules` (the workspace's lasting rules, made by
 * "Always allow in this workspace": list, revoke) and `Yoi: Trust This
 * Workspace` (after a modal warning, `yoi/workspace/trust`). A warning alert
 * that a key of the workspace manifest was ignored because the workspace is
 * not trusted offers the latter, once per window.
 */

import * as vscode from 'vscode';
import { isUntrustedWarning, revokeQuestion, rulePicks, trustWarning } from '../logic/rules';
import {
  Method,
  type ApprovalRevokeParams,
  type ApprovalRevokeResult,
  type ApprovalRulesResult,
  type WorkspaceTrustResult,
} from '../protocol';
import type { ChatManager } from './chats';
import { describeError, type ServerController } from './server';

export const MANAGE_RULES = 'yoi.manageApprovalRules';
export const TRUST_WORKSPACE = 'yoi.trustWorkspace';

const NO_FOLDER = 'Open a folder first: approval rules and trust belong to a workspace.';

export class WorkspaceRules implements vscode.Disposable {
  /** the trust offer was shown in this window (or the workspace was trusted) */
  private offered = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly server: ServerController,
    chats: ChatManager,
  ) {
    this.subscriptions.push(
      chats.onDidChange((change) => {
        if (change.kind !== 'action') {
          return;
        }
        const { action } = change;
        if ((action.kind === 'event' || action.kind === 'child') && isUntrustedWarning(action.event)) {
          void this.offerTrust();
        }
      }),
    );
  }

  commands(): vscode.Disposable[] {
    return [vscode.commands.registerCommand(MANAGE_RULES, () => this.manage()), vscode.commands.registerCommand(TRUST_WORKSPACE, () => this.trust())];
  }

  /** Pick one of the workspace's rules; revoke it after a confirmation. */
  async manage(): Promise<void> {
    if (vscode.workspace.workspaceFolders === undefined) {
      void vscode.window.showInformationMessage(NO_FOLDER);
      return;
    }
    let result: ApprovalRulesResult;
    try {
      result = await this.server.request<ApprovalRulesResult>(Method.approvalsRules, {});
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi could not list the approval rules: ${describeError(error)}`);
      return;
    }
    if (result.rules.length === 0) {
      void vscode.window.showInformationMessage('This workspace has no approval rules. "Always allow in this workspace" on an approval adds one.');
      return;
    }
    const pick = await vscode.window.showQuickPick(rulePicks(result.rules, Date.now()), {
      title: 'yoi Approval Rules of This Workspace',
      placeHolder: 'Choose a rule to revoke it',
      matchOnDescription: true,
    });
    if (pick === undefined) {
      return;
    }
    const question = revokeQuestion({ label: pick.label, key: pick.description });
    const answer = await vscode.window.showWarningMessage(question.message, { modal: true, detail: question.detail }, 'Revoke');
    if (answer !== 'Revoke') {
      return;
    }
    try {
      const params: ApprovalRevokeParams = { id: pick.id };
      const revoked = await this.server.request<ApprovalRevokeResult>(Method.approvalsRevoke, params);
      void vscode.window.showInformationMessage(revoked.revoked ? `Revoked: yoi asks again before "${pick.label}" in this workspace.` : 'That rule was already gone.');
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi could not revoke the rule: ${describeError(error)}`);
    }
  }

  /** Trust the workspace after the user confirms what that means. */
  async trust(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (folder === undefined) {
      void vscode.window.showInformationMessage(NO_FOLDER);
      return;
    }
    const warning = trustWarning(folder.uri.fsPath);
    const answer = await vscode.window.showWarningMessage(warning.message, { modal: true, detail: warning.detail }, 'Trust');
    if (answer !== 'Trust') {
      return;
    }
    try {
      const result = await this.server.request<WorkspaceTrustResult>(Method.workspaceTrust, {});
      this.offered = true; // no more offers in this window
      void vscode.window.showInformationMessage(`yoi trusts ${result.workspace}: new chats take its .yoi/manifest.toml whole (open chats keep what they have).`);
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi could not trust the workspace: ${describeError(error)}`);
    }
  }

  private async offerTrust(): Promise<void> {
    if (this.offered) {
      return;
    }
    this.offered = true;
    const button = 'Trust This Workspace…';
    const choice = await vscode.window.showWarningMessage(
      'yoi ignored parts of this workspace\'s .yoi/manifest.toml because the workspace is not trusted (see the chat for which).',
      button,
    );
    if (choice === button) {
      await vscode.commands.executeCommand(TRUST_WORKSPACE);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}
