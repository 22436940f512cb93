/**
 * "Compact Now", "Extract Memory" and "Consolidate Memory": the active chat's
 * pod (or the workspace) asked through `yoi/pod/compact`, `yoi/memory/extract`
 * and `yoi/memory/consolidate`, with a progress notification while the server
 * works (its own `$/progress` shows in the status bar, and a compaction in the
 * chat as well).
 */

import * as vscode from 'vscode';
import { consolidateMessage, extractMessage } from '../logic/memoryMessages';
import { Method, type MemoryConsolidateResult, type MemoryExtractResult, type PodCompactResult, type PodParams } from '../protocol';
import type { ChatManager } from './chats';
import type { KnowledgeTreeProvider } from './knowledgeView';
import { describeError, type ServerController } from './server';

interface Parts {
  server: ServerController;
  chats: ChatManager;
  knowledge: KnowledgeTreeProvider;
}

/** The active chat's pod, opened if needed; undefined (and a word to the user) when it has no conversation. */
async function activePod(chats: ChatManager, what: string): Promise<string | undefined> {
  const chat = chats.active;
  if (chat.podId === undefined && chat.sessionId === undefined) {
    void vscode.window.showInformationMessage(`This chat has no conversation yet: there is nothing to ${what}.`);
    return undefined;
  }
  try {
    return await chats.open(chat);
  } catch (error) {
    void vscode.window.showErrorMessage(`yoi could not open the chat's session: ${describeError(error)}`);
    return undefined;
  }
}

function withProgress<T>(title: string, work: () => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, work);
}

export function registerMemoryCommands({ server, chats, knowledge }: Parts): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('yoi.compactNow', async () => {
      const podId = await activePod(chats, 'compact');
      if (podId === undefined) {
        return;
      }
      try {
        await withProgress('yoi: Compacting the context…', () => server.request<PodCompactResult>(Method.podCompact, { podId } satisfies PodParams));
        void vscode.window.showInformationMessage('Context compacted: the chat goes on in a new session with a summary of the earlier turns.');
      } catch (error) {
        void vscode.window.showWarningMessage(`yoi did not compact: ${describeError(error)}`);
      }
    }),
    vscode.commands.registerCommand('yoi.extractMemory', async () => {
      const podId = await activePod(chats, 'extract');
      if (podId === undefined) {
        return;
      }
      try {
        const result = await withProgress('yoi: Extracting memory…', () => server.request<MemoryExtractResult>(Method.memoryExtract, { podId } satisfies PodParams));
        void vscode.window.showInformationMessage(extractMessage(result));
      } catch (error) {
        void vscode.window.showWarningMessage(`yoi did not extract memory: ${describeError(error)}`);
      } finally {
        knowledge.refreshSoon();
      }
    }),
    vscode.commands.registerCommand('yoi.consolidateMemory', async () => {
      try {
        const result = await withProgress('yoi: Consolidating memory…', () => server.request<MemoryConsolidateResult>(Method.memoryConsolidate, {}));
        void vscode.window.showInformationMessage(consolidateMessage(result));
      } catch (error) {
        void vscode.window.showWarningMessage(`yoi did not consolidate memory: ${describeError(error)}`);
      } finally {
        knowledge.refreshSoon();
      }
    }),
  ];
}
