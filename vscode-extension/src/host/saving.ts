/**
 * Answers `yoi/document/save` (docs/protocol.md "Edits that commands see"):
 * after you keep the agent's edit to a document that had no unsaved changes
 * before, the server asks to save it, so the commands the agent runs next see
 * the edit. `yoi.saveAcceptedEdits: false` answers `saved: false`.
 */

import * as vscode from 'vscode';
import { type DocumentSaveParams, type DocumentSaveResult, Method } from '../protocol';
import type { ServerController } from './server';

export function saveAcceptedEdits(): boolean {
  return vscode.workspace.getConfiguration('yoi').get<boolean>('saveAcceptedEdits') !== false;
}

export class SaveHandler {
  constructor(server: ServerController) {
    server.onRequest<DocumentSaveParams>(Method.documentSave, (params) => this.save(params));
  }

  async save(params: DocumentSaveParams): Promise<DocumentSaveResult> {
    if (!saveAcceptedEdits()) {
      return { saved: false };
    }
    const uri = vscode.Uri.parse(params.uri);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString() || (d.uri.scheme === 'file' && uri.scheme === 'file' && d.uri.fsPath === uri.fsPath));
    if (doc === undefined) {
      return { saved: false };
    }
    if (!doc.isDirty) {
      return { saved: true };
    }
    return { saved: await doc.save() };
  }
}
