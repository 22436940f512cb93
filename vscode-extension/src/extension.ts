/** The composition root: the server, the chats, the two views and the commands. */

import * as vscode from 'vscode';
import { ApprovalBroker } from './host/approvals';
import { ChatManager } from './host/chats';
import { CHAT_VIEW_ID, ChatViewProvider } from './host/chatView';
import { registerCommands } from './host/commands';
import { EditHandler } from './host/edits';
import { KNOWLEDGE_VIEW_ID, KnowledgeTreeProvider } from './host/knowledgeView';
import { MCP_VIEW_ID, McpTreeProvider, registerMcpCommands } from './host/mcpView';
import { registerMemoryCommands } from './host/memoryCommands';
import { ContextPanel, SHOW_CONTEXT } from './host/contextPanel';
import { PodSettings } from './host/podSettings';
import { ReviewController } from './host/review';
import { WorkspaceRules } from './host/rules';
import { SaveHandler } from './host/saving';
import { ServerController } from './host/server';

let server: ServerController | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('yoi', { log: true });
  const controller = new ServerController(output);
  server = controller;
  const chats = new ChatManager(server, context.workspaceState);
  const view = new ChatViewProvider(context.extensionUri, chats, server);
  const knowledge = new KnowledgeTreeProvider(server);
  const mcp = new McpTreeProvider(server);
  const approvals = new ApprovalBroker(server, chats, (chatId) => view.revealChat(chatId));
  const settings = new PodSettings(chats, controller);
  const rules = new WorkspaceRules(controller, chats);
  const contextPanel = new ContextPanel(context.extensionUri, chats, controller);
  const reviews = new ReviewController((edit, uris) => controller.thenSynced(uris, () => vscode.workspace.applyEdit(edit)));
  new EditHandler(server, reviews); // answers workspace/applyEdit
  new SaveHandler(server); // answers yoi/document/save
  reviews.onDidChangeProgress(({ callId, tally }) => {
    const chat = chats.chatOfCall(callId);
    if (chat !== undefined) {
      chats.apply(chat, tally === undefined ? { kind: 'review', callId } : { kind: 'review', callId, progress: tally });
    }
  });
  view.actions = {
    approve: (requestId, decision) => approvals.answer(requestId, decision),
    review: async (callId, action) => {
      if (action === 'open') {
        await reviews.open(callId);
      } else {
        await reviews.decideAll(action === 'keepAll' ? 'kept' : 'undone', callId);
      }
    },
    setMode: (mode) => settings.setMode(mode),
    executePlan: () => settings.executePlan(),
    raiseBudget: (key) => settings.raiseBudget(key),
  };
  context.subscriptions.push(
    output,
    server,
    chats,
    view,
    knowledge,
    mcp,
    approvals,
    reviews,
    settings,
    ...settings.commands(),
    rules,
    ...rules.commands(),
    contextPanel,
    vscode.commands.registerCommand(SHOW_CONTEXT, () => contextPanel.show()),
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, view),
    vscode.window.registerTreeDataProvider(KNOWLEDGE_VIEW_ID, knowledge),
    vscode.window.registerTreeDataProvider(MCP_VIEW_ID, mcp),
    ...registerMcpCommands(mcp),
    ...registerCommands({ server, chats, view, knowledge, reviews }),
    ...registerMemoryCommands({ server, chats, knowledge }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // Only what the server is started with; the review and approval prompts are read when used.
      if (['yoi.model', 'yoi.approvals', 'yoi.server', 'yoi.trace'].some((key) => e.affectsConfiguration(key))) {
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
