/**
 * Answers `workspace/applyEdit` (docs/protocol.md "Edits from tool calls").
 *
 * - No change annotation needs confirmation: applied at once, as any LSP
 *   client would (version-checked).
 * - An agent's edit: reviewed in the editor (review.ts), or — with
 *   `yoi.editReview: "refactorPreview"` — in VS Code's Refactor Preview with
 *   every change ticked, so Apply applies it and unticking leaves a change out.
 *
 * Either way the answer says exactly what happened: `applied: false` when the
 * buffer did not change, and the kept changes' `didChange` is on the wire
 * before `applied: true`, so the server compares the buffer it will read with
 * the proposal (a partly kept edit tells the model to read the file again).
 */

import * as vscode from 'vscode';
import type { ApplyWorkspaceEditParams, ApplyWorkspaceEditResult } from 'vscode-languageclient/node';
import { ApplyWorkspaceEditRequest } from 'vscode-languageclient/node';
import { baseName, planEdit } from '../logic/editPlan';
import type { ReviewController } from './review';
import type { ServerController } from './server';

export type ReviewMode = 'editor' | 'refactorPreview';

export function reviewMode(): ReviewMode {
  return vscode.workspace.getConfiguration('yoi').get<string>('editReview') === 'refactorPreview' ? 'refactorPreview' : 'editor';
}

export class EditHandler {
  constructor(
    private readonly server: ServerController,
    private readonly reviews: ReviewController,
  ) {
    server.onRequest<ApplyWorkspaceEditParams>(ApplyWorkspaceEditRequest.method, (params, token) => this.handle(params, token));
  }

  async handle(params: ApplyWorkspaceEditParams, token: vscode.CancellationToken): Promise<ApplyWorkspaceEditResult> {
    const plan = planEdit(params);
    try {
      switch (plan.kind) {
        case 'direct':
          return await this.applyDirectly(params);
        case 'preview':
          return await this.refactorPreview(params, plan.label);
        case 'review':
          if (reviewMode() === 'refactorPreview') {
            return await this.refactorPreview(params, plan.label);
          }
          return await this.reviews.review(plan, token);
      }
    } catch (error) {
      return { applied: false, failureReason: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Apply a workspace edit; resolves once the server has the didChange of every document it changed. */
  applyAndSync(edit: vscode.WorkspaceEdit, uris: readonly vscode.Uri[]): Promise<boolean> {
    return this.server.thenSynced(uris, () => vscode.workspace.applyEdit(edit));
  }

  private async applyDirectly(params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> {
    const conflict = versionConflict(params);
    if (conflict !== undefined) {
      return { applied: false, failureReason: conflict };
    }
    const edit = await this.server.asWorkspaceEdit(params.edit);
    return { applied: await this.applyAndSync(edit, touchedUris(params)) };
  }

  /**
   * The Refactor Preview with every change ticked: VS Code shows the preview
   * only when some change needs confirmation, and leaves exactly those
   * unticked. So the changes go without that flag, plus one that needs it and
   * is nothing: creating a folder that exists, with ignoreIfExists, which the
   * preview leaves out of its list (and out of what Apply applies).
   */
  private async refactorPreview(params: ApplyWorkspaceEditParams, label: string): Promise<ApplyWorkspaceEditResult> {
    const conflict = versionConflict(params);
    if (conflict !== undefined) {
      return { applied: false, failureReason: conflict };
    }
    const ticked = new vscode.WorkspaceEdit();
    const metadata: vscode.WorkspaceEditEntryMetadata = { label, needsConfirmation: false };
    for (const change of params.edit.documentChanges ?? []) {
      if (!('kind' in change)) {
        const uri = vscode.Uri.parse(change.textDocument.uri);
        for (const e of change.edits) {
          const r = e.range;
          ticked.replace(uri, new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character), 'newText' in e ? e.newText : '', metadata);
        }
      } else if (change.kind === 'create') {
        ticked.createFile(vscode.Uri.parse(change.uri), { overwrite: change.options?.overwrite ?? false, ignoreIfExists: change.options?.ignoreIfExists ?? false }, metadata);
      } else if (change.kind === 'rename') {
        ticked.renameFile(vscode.Uri.parse(change.oldUri), vscode.Uri.parse(change.newUri), change.options ?? {}, metadata);
      } else {
        ticked.deleteFile(vscode.Uri.parse(change.uri), change.options ?? {}, metadata);
      }
    }
    const anchor = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (anchor !== undefined) {
      ticked.createFile(anchor, { ignoreIfExists: true }, { label, needsConfirmation: true });
    }
    const uris = touchedUris(params);
    const before = await Promise.all(uris.map((u) => currentText(u)));
    const applied = await this.applyAndSync(ticked, uris);
    const after = await Promise.all(uris.map((u) => currentText(u)));
    const changed = before.some((text, i) => text !== after[i]);
    return applied && changed ? { applied: true } : { applied: false, failureReason: 'the user discarded it in the Refactor Preview' };
  }
}

/** Why an edit pinned to a buffer version cannot apply (the buffer moved on), if it cannot. */
function versionConflict(params: ApplyWorkspaceEditParams): string | undefined {
  for (const change of params.edit.documentChanges ?? []) {
    if ('textDocument' in change && change.textDocument.version !== null) {
      const uri = vscode.Uri.parse(change.textDocument.uri).toString();
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
      if (open !== undefined && open.version !== change.textDocument.version) {
        return `${baseName(change.textDocument.uri)} changed in the editor since the edit was made`;
      }
    }
  }
  return undefined;
}

function touchedUris(params: ApplyWorkspaceEditParams): vscode.Uri[] {
  const uris = new Set<string>();
  for (const change of params.edit.documentChanges ?? []) {
    uris.add('kind' in change ? ('uri' in change ? change.uri : change.oldUri) : change.textDocument.uri);
  }
  for (const uri of Object.keys(params.edit.changes ?? {})) {
    uris.add(uri);
  }
  return [...uris].map((u) => vscode.Uri.parse(u));
}

async function currentText(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open !== undefined) {
    return open.getText();
  }
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}
