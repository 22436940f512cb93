/**
 * Which chat shows each sub-agent pod (docs/protocol.md "Sub-agents"): a
 * sub-agent's events, approvals and Stop belong to the chat of the pod that
 * spawned it, at any depth. Learnt from the events and restored histories.
 */

import type { EventParams, HistoryResult } from '../protocol';

export class AgentPods {
  /** chat id by sub-agent pod id */
  private readonly chats = new Map<string, string>();

  /** The chat showing the sub-agent pod `podId`. */
  chatId(podId: string): string | undefined {
    return this.chats.get(podId);
  }

  /** An event shown in the chat: a sub-agent's own, or a `subAgent` event naming one. */
  noteEvent(chatId: string, params: EventParams): void {
    if (params.parentPodId !== undefined) {
      this.chats.set(params.podId, chatId);
    }
    if (params.event.type === 'subAgent') {
      this.chats.set(params.event.podId, chatId);
    }
  }

  /** The sub-agents of a restored history that still run: their events go to the chat. */
  noteHistory(chatId: string, history: HistoryResult): void {
    for (const agent of history.subAgents ?? []) {
      if (agent.podId !== undefined) {
        this.chats.set(agent.podId, chatId);
      }
    }
  }

  /** The server restarted: its pods are gone. */
  clear(): void {
    this.chats.clear();
  }
}
