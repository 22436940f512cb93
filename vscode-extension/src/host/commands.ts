/** Every `yoi.*` command. */

import * as vscode from 'vscode';
import { formatFileMention, selectionLines } from '../logic/mentions';
import type { RecordNode } from '../logic/records';
import { sessionPicks } from '../logic/sessions';
import {
  Method,
  type ReferencesCompleteParams,
  type ReferencesCompleteResult,
  type SessionsListResult,
} from '../protocol';
import type { ChatViewProvider } from './chatView';
import type { ChatManager } from './chats';
import type { KnowledgeTreeProvider } from './knowledgeView';
import type { ReviewController } from './review';
import { describeError, type ServerController } from './server';

interface Parts {
  server: ServerController;
  chats: ChatManager;
  view: ChatViewProvider;
  knowledge: KnowledgeTreeProvider;
  reviews: ReviewController;
}

/** A code lens passes the review document as a string; a keybinding passes nothing. */
function asUri(value: unknown): vscode.Uri | undefined {
  if (value instanceof vscode.Uri) {
    return value;
  }
  return typeof value === 'string' ? vscode.Uri.parse(value) : undefined;
}

export function registerCommands(parts: Parts): vscode.Disposable[] {
  const { server, chats, view, knowledge, reviews } = parts;
  const command = (id: string, run: (...args: never[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, run as (...args: unknown[]) => unknown);

  return [
    command('yoi.restartServer', async () => {
      await server.restart();
    }),
    command('yoi.showLog', () => server.output.show()),
    command('yoi.newChat', async () => {
      chats.newChat();
      await view.focus();
    }),
    command('yoi.switchChat', async () => {
      const pick = await vscode.window.showQuickPick(
        chats.all.map((c) => ({ label: c.title, description: c === chats.active ? 'active' : '', id: c.id })),
        { title: 'Switch yoi Chat', placeHolder: 'Choose a chat' },
      );
      if (pick !== undefined) {
        chats.switchTo(pick.id);
        await view.focus();
      }
    }),
    command('yoi.resumeSession', async () => {
      let result: SessionsListResult;
      try {
        result = await server.request<SessionsListResult>(Method.sessionsList, {});
      } catch (error) {
        void vscode.window.showErrorMessage(`yoi could not list sessions: ${describeError(error)}`);
        return;
      }
      const open = new Set(chats.all.map((c) => c.sessionId).filter((s): s is string => s !== undefined));
      const picks = sessionPicks(result.sessions, Date.now(), open);
      if (picks.length === 0) {
        void vscode.window.showInformationMessage('There are no yoi sessions yet. Send a message in the chat to start one.');
        return;
      }
      const pick = await vscode.window.showQuickPick(picks, {
        title: 'Resume yoi Session',
        placeHolder: 'Search sessions by title',
        matchOnDetail: true,
      });
      if (pick !== undefined) {
        await view.focus();
        await chats.resume(pick.sessionId, pick.label).catch((error: unknown) => {
          void vscode.window.showErrorMessage(`yoi could not resume the session: ${describeError(error)}`);
        });
      }
    }),
    command('yoi.addFileToChat', async (uri?: vscode.Uri) => {
      const editor = vscode.window.activeTextEditor;
      const target = uri instanceof vscode.Uri ? uri : editor?.document.uri;
      if (target === undefined) {
        void vscode.window.showInformationMessage('Open a file (or select one in the Explorer) to add it to the chat.');
        return;
      }
      const path = vscode.workspace.asRelativePath(target, false);
      const selection = editor !== undefined && editor.document.uri.toString() === target.toString() ? editor.selection : undefined;
      const lines = selection === undefined || selection.isEmpty ? undefined : selectionLines(selection.start, selection.end);
      await view.insert({ type: 'insert', text: formatFileMention(path, lines), reference: { kind: 'file', value: path } });
    }),
    command('yoi.addKnowledgeToChat', async (node?: RecordNode) => {
      let slug = node?.slug;
      if (slug === undefined) {
        const params: ReferencesCompleteParams = { kind: 'knowledge', prefix: '', limit: 200 };
        const items = await server.request<ReferencesCompleteResult>(Method.referencesComplete, params).then(
          (r) => r.items,
          () => [],
        );
        const fromTree = knowledge.knowledge.map((r) => ({ label: r.slug, detail: r.description }));
        const choices = items.length > 0 ? items.map((i) => ({ label: i.label, detail: i.detail ?? '' })) : fromTree;
        if (choices.length === 0) {
          void vscode.window.showInformationMessage('There are no knowledge records in this workspace (.yoi/knowledge/).');
          return;
        }
        slug = (await vscode.window.showQuickPick(choices, { title: 'Add Knowledge to Chat' }))?.label;
      }
      if (slug !== undefined) {
        await view.insert({ type: 'insert', text: `#${slug}`, reference: { kind: 'knowledge', value: slug } });
      }
    }),
    command('yoi.knowledge.refresh', () => knowledge.refresh()),
    command('yoi.review.keepChange', (uri?: unknown, index?: unknown) =>
      reviews.decide('kept', asUri(uri), typeof index === 'number' ? index : undefined),
    ),
    command('yoi.review.undoChange', (uri?: unknown, index?: unknown) =>
      reviews.decide('undone', asUri(uri), typeof index === 'number' ? index : undefined),
    ),
    command('yoi.review.keepAll', () => reviews.decideAll('kept')),
    command('yoi.review.undoAll', () => reviews.decideAll('undone')),
    command('yoi.review.open', () => reviews.open()),
  ];
}
