/**
 * The active chat's settings (`yoi/pod/configure`): `Yoi: Switch Mode`,
 * `Yoi: Switch Model`, `Yoi: Choose Profile`, the chat's mode picker and its
 * "Execute plan", and the status bar item `<model> · <mode> · NN%` (a click
 * switches the mode).
 */

import * as vscode from 'vscode';
import { ResponseError } from 'vscode-languageclient/node';
import { configureErrorMessage, EXECUTE_PLAN_MESSAGE, modelInput, modePicks, statusText, statusTooltip, validateModel } from '../logic/modes';
import type { PodConfigureParams, PodMode } from '../protocol';
import type { ChatManager } from './chats';
import { describeError } from './server';

export const SWITCH_MODE = 'yoi.switchMode';
export const SWITCH_MODEL = 'yoi.switchModel';
export const CHOOSE_PROFILE = 'yoi.chooseProfile';

export class PodSettings implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** profiles chosen in this window (the server has no list of them) */
  private readonly profiles = new Set<string>();

  constructor(private readonly chats: ChatManager) {
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

  async chooseProfile(): Promise<void> {
    for (const chat of this.chats.all) {
      if (typeof chat.state.profile === 'string') {
        this.profiles.add(chat.state.profile);
      }
    }
    const current = this.chats.active.state.profile;
    const known = [...this.profiles].sort().map((name) => ({ label: name, description: name === current ? 'current' : '' }));
    const quick = vscode.window.createQuickPick();
    quick.title = 'yoi: Choose Profile';
    quick.placeholder = 'Type the name of a [profiles.<name>] of your manifests';
    quick.items = known;
    quick.onDidChangeValue((value) => {
      const name = value.trim();
      quick.items = name === '' || known.some((k) => k.label === name) ? known : [{ label: name, description: 'use this profile' }, ...known];
    });
    const name = await new Promise<string | undefined>((resolve) => {
      quick.onDidAccept(() => {
        resolve(quick.selectedItems[0]?.label ?? (quick.value.trim() || undefined));
        quick.hide();
      });
      quick.onDidHide(() => resolve(undefined));
      quick.show();
    });
    quick.dispose();
    if (name !== undefined && (await this.configure({ profile: name }, `use the profile "${name}"`))) {
      this.profiles.add(name);
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
