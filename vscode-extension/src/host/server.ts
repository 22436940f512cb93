/**
 * The language client: starts `python -m server.cli lsp --stdio` with the
 * interpreter found by python.ts, restarts on setting changes and on demand,
 * and routes the server's custom requests and notifications.
 */

import * as vscode from 'vscode';
import {
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  LanguageClient,
  ResponseError,
  RevealOutputChannelOn,
  State,
  type ClientCapabilities,
  type LanguageClientOptions,
  type ServerOptions,
  type StaticFeature,
  type WorkspaceEdit as LspWorkspaceEdit,
} from 'vscode-languageclient/node';
import * as readline from 'node:readline';
import { explainStartFailure, SERVER_ARGS } from '../logic/interpreter';
import { ErrorCode, type InitializationOptions, type ServerYoiCapabilities } from '../protocol';
import { findInterpreter, probe } from './python';

export type ServerState = 'stopped' | 'starting' | 'running' | 'failed';

/** Advertises `capabilities.experimental.yoi`: this client answers `yoi/approval` and `yoi/document/save`. */
class YoiCapabilities implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...experimental, yoi: { approvals: true, saveDocuments: true } };
  }
  initialize(): void {}
  getState(): { kind: 'static' } {
    return { kind: 'static' };
  }
  clear(): void {}
}

type RequestHandler = (params: unknown, token: vscode.CancellationToken) => unknown;
type NotificationHandler = (params: unknown) => void;

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly requestHandlers = new Map<string, RequestHandler>();
  private readonly notificationHandlers = new Map<string, NotificationHandler>();
  private readonly started = new vscode.EventEmitter<void>();
  private readonly stateChanged = new vscode.EventEmitter<ServerState>();
  private current: ServerState = 'stopped';
  /** why the last start failed */
  private failure: string | undefined;
  private starting: Promise<void> | undefined;

  /** A new server process is running: every pod of the previous one is gone. */
  readonly onDidStart = this.started.event;
  readonly onDidChangeState = this.stateChanged.event;

  constructor(readonly output: vscode.LogOutputChannel) {}

  get state(): ServerState {
    return this.current;
  }

  get features(): string[] {
    const experimental = this.client?.initializeResult?.capabilities.experimental as { yoi?: ServerYoiCapabilities } | undefined;
    return experimental?.yoi?.features ?? [];
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- P documents the payload at the call site
  onRequest<P>(method: string, handler: (params: P, token: vscode.CancellationToken) => unknown): void {
    this.requestHandlers.set(method, handler as unknown as RequestHandler);
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- P documents the payload at the call site
  onNotification<P>(method: string, handler: (params: P) => void): void {
    this.notificationHandlers.set(method, handler as unknown as NotificationHandler);
  }

  /** Send a request; rejects with a sentence when the server is not running. */
  async request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R> {
    if (this.starting !== undefined) {
      await this.starting;
    }
    const client = this.client;
    if (client === undefined || !client.isRunning()) {
      throw new Error(this.failure ?? 'The yoi server is not running. Run "Yoi: Restart Server" (see the yoi output for why).');
    }
    return token === undefined ? client.sendRequest<R>(method, params) : client.sendRequest<R>(method, params, token);
  }

  /** An LSP workspace edit as VS Code's (the language client's converter). */
  async asWorkspaceEdit(edit: LspWorkspaceEdit): Promise<vscode.WorkspaceEdit> {
    const client = this.client;
    if (client === undefined) {
      throw new Error('The yoi server is not running.');
    }
    return client.protocol2CodeConverter.asWorkspaceEdit(edit);
  }

  /**
   * Run a change of documents (an applied edit) and resolve once the server
   * has the resulting text of every one of `uris` that is open afterwards: the
   * `didChange` (or, for a document the edit opened, the `didOpen`) of its
   * current version is on the wire. The server reads those buffers right after
   * the answer, and takes a buffer it has not seen change for one that will
   * sync later.
   */
  async thenSynced<T>(uris: readonly vscode.Uri[], run: () => Thenable<T>): Promise<T> {
    const client = this.client;
    const features = client === undefined ? [] : [client.getFeature(DidChangeTextDocumentNotification.method), client.getFeature(DidOpenTextDocumentNotification.method)];
    const keys = [...new Set(uris.map((u) => u.toString()))];
    const versionOf = (key: string): number | undefined => vscode.workspace.textDocuments.find((d) => d.uri.toString() === key)?.version;
    const before = new Map(keys.map((k) => [k, versionOf(k)]));
    const sent = new Map<string, number>();
    let wake: () => void = () => undefined;
    const subscriptions = features.map((feature) =>
      feature.onNotificationSent((e) => {
        sent.set(vscode.Uri.parse(e.params.textDocument.uri).toString(), e.params.textDocument.version);
        wake();
      }),
    );
    try {
      const result = await run();
      const waiting = (): boolean =>
        keys.some((k) => {
          const now = versionOf(k);
          return now !== undefined && now !== before.get(k) && (sent.get(k) ?? -1) < now;
        });
      const deadline = Date.now() + 3000;
      while (features.length > 0 && waiting() && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      if (waiting()) {
        this.output.warn(`The server may not have the edited text yet (no didChange within 3 s): ${keys.join(', ')}`);
      }
      return result;
    } finally {
      for (const subscription of subscriptions) {
        subscription.dispose();
      }
    }
  }

  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async restart(): Promise<void> {
    if (this.starting !== undefined) {
      await this.starting;
    }
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.output.warn(`Stopping the yoi server: ${String(error)}`);
      }
      await client.dispose().catch(() => undefined); // a client whose start failed cannot be stopped

    }
    this.setState('stopped');
  }

  private setState(state: ServerState): void {
    if (state !== this.current) {
      this.current = state;
      void vscode.commands.executeCommand('setContext', 'yoi.server.state', state);
      this.stateChanged.fire(state);
    }
  }

  private async doStart(): Promise<void> {
    this.failure = undefined;
    this.setState('starting');
    const interpreter = await findInterpreter();
    // The probe runs exactly what the server will: the same command, folder and environment.
    const launch = { command: interpreter.command, env: { ...process.env }, cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath };
    this.output.info(`Using ${interpreter.command} (${interpreter.source}) in ${launch.cwd ?? process.cwd()}.`);
    const outcome = await probe(interpreter, launch);
    if (!outcome.ok) {
      this.failStart(outcome.message, outcome.fix);
      return;
    }
    this.output.info(`Python ${outcome.report.version.join('.')}, yoi ${outcome.report.yoi ?? '?'}.`);
    const stderr: string[] = [];
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: [...SERVER_ARGS],
      options: { env: launch.env, ...(launch.cwd === undefined ? {} : { cwd: launch.cwd }) },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }],
      outputChannel: this.output,
      initializationOptions: initializationOptions(),
      // The chat view shows failures itself; do not pop the output channel.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      stdioOptions: {
        stdout: (input, channel) => {
          readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', (line) => channel.info(line));
        },
        // The server's stderr goes to the log; its last lines also explain a failed start.
        stderr: (input, channel) => {
          readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', (line) => {
            channel.error(line);
            stderr.push(line);
            stderr.splice(0, Math.max(0, stderr.length - 40));
          });
        },
      },
    };
    const client = new LanguageClient('yoi', 'yoi', serverOptions, clientOptions);
    client.registerFeature(new YoiCapabilities());
    for (const [method, handler] of this.requestHandlers) {
      client.onRequest(method, handler);
    }
    for (const [method, handler] of this.notificationHandlers) {
      client.onNotification(method, handler);
    }
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.setState('running');
        this.started.fire();
      } else if (e.newState === State.Stopped && this.client === client) {
        this.setState('stopped');
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 200)); // the last of its stderr
      const failure = explainStartFailure(interpreter, stderr, error instanceof Error ? error.message : String(error));
      this.failStart(failure.message, failure.fix);
    }
  }

  /** The one message a failed start shows (also what requests answer until a restart). */
  private failStart(message: string, fix?: string): void {
    this.failure = message;
    this.output.error(message);
    this.setState('failed');
    void this.showStartError(message, fix);
  }

  private async showStartError(message: string, fix?: string): Promise<void> {
    const actions = [...(fix === undefined ? [] : ['Copy Fix Command']), 'Open Settings', 'Show Log', 'Retry'];
    const choice = await vscode.window.showErrorMessage(message, ...actions);
    if (choice === 'Copy Fix Command' && fix !== undefined) {
      await vscode.env.clipboard.writeText(fix);
    } else if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'yoi.server.python');
    } else if (choice === 'Show Log') {
      this.output.show();
    } else if (choice === 'Retry') {
      await this.restart();
    }
  }

  dispose(): void {
    void this.stop();
    this.started.dispose();
    this.stateChanged.dispose();
  }
}

function initializationOptions(): InitializationOptions {
  const config = vscode.workspace.getConfiguration('yoi');
  const model = config.get<string>('model', '').trim();
  const approvals = config.get<string>('approvals', 'fromManifest');
  return {
    ...(model === '' ? {} : { model }),
    ...(approvals === 'auto' || approvals === 'ask' ? { approvals } : {}),
  };
}

/** True when the server answered with this JSON-RPC error code. */
export function hasErrorCode(error: unknown, code: number): boolean {
  return error instanceof ResponseError && error.code === code;
}

/** True when the server answered "method not found" (an older server). */
export function isMethodNotFound(error: unknown): boolean {
  return hasErrorCode(error, ErrorCode.methodNotFound);
}

/** An error as one sentence for the user. */
export function describeError(error: unknown): string {
  if (error instanceof ResponseError) {
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
