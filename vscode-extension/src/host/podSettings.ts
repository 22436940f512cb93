/**
 * The active chat's settings (`yoi/pod/configure`): `Yoi: Switch Mode`,
 * `Yoi: Switch Model`, `Yoi: Choose Profile` (the manifests' profiles from
 * `yoi/profiles/list`), the chat's mode picker and its "Execute plan", the
 * status bar item `<model> · <mode> · NN% · $0.31` (a click switches the
 * mode), and "Raise Session Budget…" of a turn a budget stopped.
 */

import * as vscode from 'vscode';
import { ResponseError } from 'vscode-languageclient/node';
import { formatAmount, parseBudgetStop, parseRaise, raisedText, raisePrompt, suggestedRaise, validateRaise } from '../logic/budget';
import { configureErrorMessage, EXECUTE_PLAN_MESSAGE, modelInput, modePicks, profilePicks, statusText, statusTooltip, validateModel, type ProfilePick } from '../logic/modes';
import { Method, type BudgetRaiseParams, type BudgetRaiseResult, type PodConfigureParams, type PodMode, type ProfileInfo, type ProfilesListResult } from '../protocol';
import type { ChatManager } from './chats';
import { describeError, type ServerController } from './server';

export const SWITCH_MODE = 'yoi.switchMode';
export const SWITCH_MODEL = 'yoi.switchModel';
export const CHOOSE_PROFILE = 'yoi.chooseProfile';

export class PodSettings implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** profiles chosen in this window (offered when the server has no `yoi/profiles/list`) */
  private readonly profiles = new Set<string>();

  constructor(
    private readonly chats: ChatManager,
    private readonly server: ServerController,
  ) {
    this.item = vscode.window.createStatusBarItem('yoi.chatSettings', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'yoi Chat Model and Mode';
    this.item.command = SWITCH_MODE;
    this.subscriptions.push(
      chats.onDidChange((change) => {
        if (change.kind === 'tabs' || change.chatId === chats.active.id) {
          this.update();
        }
      }),
    );
    this.update();
    this.item.show();
  }

  private update(): void {
    const state = this.chats.active.state;
    this.item.text = statusText(state);
    this.item.tooltip = statusTooltip(state);
    if (typeof state.profile === 'string') {
      this.profiles.add(state.profile);
    }
  }

  /** Change the active chat's settings; a refusal is told (`what`: "switch the mode"). True when done. */
  private async configure(change: Omit<PodConfigureParams, 'podId'>, what: string): Promise<boolean> {
    try {
      await this.chats.configure(this.chats.active.id, change);
      return true;
    } catch (error) {
      const message =
        error instanceof ResponseError ? configureErrorMessage(error, what) : `yoi could not ${what}: ${describeError(error)}`;
      void vscode.window.showWarningMessage(message);
      return false;
    }
  }

  async setMode(mode: PodMode): Promise<boolean> {
    return this.configure({ mode }, 'switch the mode');
  }

  async switchMode(): Promise<void> {
    const picks = modePicks(this.chats.active.state.mode);
    const pick = await vscode.window.showQuickPick(picks, {
      title: 'yoi: Switch Mode',
      placeHolder: 'What may the agent do in this chat?',
    });
    if (pick !== undefined) {
      await this.setMode(pick.mode);
    }
  }

  async switchModel(): Promise<void> {
    const value = await vscode.window.showInputBox({
      title: 'yoi: Switch Model',
      prompt: 'The model this chat talks to from its next request on, as a litellm model string',
      placeHolder: 'anthropic/claude-sonnet-4-5',
      value: this.chats.active.state.model ?? '',
      validateInput: validateModel,
    });
    const model = value === undefined ? undefined : modelInput(value);
    if (model !== undefined) {
      await this.configure({ model }, 'switch the model');
    }
  }

  /** The manifests' profiles (`yoi/profiles/list`); the names used in this window when the server cannot list them. */
  private async listProfiles(): Promise<ProfileInfo[]> {
    try {
      return (await this.server.request<ProfilesListResult>(Method.profilesList, {})).profiles;
    } catch {
      for (const chat of this.chats.all) {
        if (typeof chat.state.profile === 'string') {
          this.profiles.add(chat.state.profile);
        }
      }
      return [...this.profiles].sort().map((name) => ({ name }));
    }
  }

  async chooseProfile(): Promise<void> {
    const current = this.chats.active.state.profile;
    const quick = vscode.window.createQuickPick<ProfilePick>();
    quick.title = 'yoi: Choose Profile';
    quick.placeholder = 'A [profiles.<name>] of your manifests, or type a name';
    quick.matchOnDescription = true;
    quick.matchOnDetail = true;
    quick.busy = true;
    let profiles: ProfileInfo[] = [];
    const show = (): void => {
      quick.items = profilePicks(profiles, current, quick.value);
    };
    show();
    quick.onDidChangeValue(show);
    void this.listProfiles().then((listed) => {
      profiles = listed;
      quick.busy = false;
      show();
    });
    const chosen = await new Promise<ProfilePick | undefined>((resolve) => {
      quick.onDidAccept(() => {
        const typed = quick.value.trim();
        resolve(quick.selectedItems[0] ?? (typed === '' ? undefined : { label: typed, description: '', profile: typed }));
        quick.hide();
      });
      quick.onDidHide(() => resolve(undefined));
      quick.show();
    });
    quick.dispose();
    if (chosen === undefined) {
      return;
    }
    const name = chosen.profile;
    const what = name === '' ? 'drop the profile' : `use the profile "${name}"`;
    if ((await this.configure({ profile: name }, what)) && name !== '') {
      this.profiles.add(name);
    }
  }

  /**
   * "Raise Session Budget…" of the notice `key` (a turn a session budget
   * stopped): the new limit, asked for, sent as `yoi/budget/raise`; the chat
   * says so, and the user sends again.
   */
  async raiseBudget(key: number): Promise<void> {
    const chat = this.chats.active;
    const entry = chat.state.entries.find((e) => e.key === key);
    if (entry?.kind !== 'notice' || entry.raise === undefined) {
      return;
    }
    const kind = entry.raise;
    const stop = parseBudgetStop(entry.text);
    const value = await vscode.window.showInputBox({
      title: 'yoi: Raise Session Budget',
      prompt: raisePrompt(kind, stop),
      value: stop === undefined ? '' : formatAmount(kind, suggestedRaise(kind, stop)),
      validateInput: (text) => validateRaise(kind, text, stop),
    });
    const amount = value === undefined ? undefined : parseRaise(kind, value);
    if (amount === undefined) {
      return;
    }
    try {
      const podId = await this.chats.open(chat);
      const params: BudgetRaiseParams = kind === 'usd' ? { podId, perSessionUsd: amount } : { podId, perSessionTokens: amount };
      const result = await this.server.request<BudgetRaiseResult>(Method.budgetRaise, params);
      this.chats.apply(chat, { kind: 'budgetRaised', key, text: raisedText(kind, result), sessionCostUsd: result.sessionCostUsd });
    } catch (error) {
      void vscode.window.showErrorMessage(`yoi could not raise the session budget: ${describeError(error)}`);
    }
  }

  /** "Execute plan": agent mode, then the message that carries it out. */
  async executePlan(): Promise<void> {
    const chat = this.chats.active;
    if (chat.running || !(await this.setMode('agent'))) {
      return;
    }
    await this.chats.send(chat.id, EXECUTE_PLAN_MESSAGE, []);
  }

  commands(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand(SWITCH_MODE, () => this.switchMode()),
      vscode.commands.registerCommand(SWITCH_MODEL, () => this.switchModel()),
      vscode.commands.registerCommand(CHOOSE_PROFILE, () => this.chooseProfile()),
    ];
  }

  dispose(): void {
    this.item.dispose();
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}
