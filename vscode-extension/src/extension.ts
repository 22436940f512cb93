/** The composition root: the server, the chats, the two views and the commands. */

import * as vscode from 'vscode';
import { ChatManager } from './host/chats';
import { CHAT_VIEW_ID, ChatViewProvider } from './host/chatView';
import { registerCommands } from './host/commands';
import { KNOWLEDGE_VIEW_ID, KnowledgeTreeProvider } from './host/knowledgeView';
import { ServerController } from './host/server';

let server: ServerController | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('yoi', { log: true });
  server = new ServerController(output);
  const chats = new ChatManager(server, context.workspaceState);
  const view = new ChatViewProvider(context.extensionUri, chats, server);
  const knowledge = new KnowledgeTreeProvider(server);
  context.subscriptions.push(
    output,
    server,
    chats,
    view,
    knowledge,
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, view),
    vscode.window.registerTreeDataProvider(KNOWLEDGE_VIEW_ID, knowledge),
    ...registerCommands({ server, chats, view, knowledge }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('yoi')) {
        void server?.restart();
      }
    }),
  );
  void server.start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
