/** How sessions read in the `Yoi: Resume Session…` picker. Pure. */

import type { SessionInfo } from '../protocol';
import { shortCost } from './modes';

export function relativeTime(then: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) {
    return 'just now';
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 24) {
    return `${hours} h ago`;
  }
  const days = Math.round(hours / 24);
  if (days < 30) {
    return days === 1 ? 'yesterday' : `${days} days ago`;
  }
  return new Date(then).toISOString().slice(0, 10);
}

export interface SessionPick {
  sessionId: string;
  label: string;
  description: string;
  detail: string;
}

/**
 * The picker's rows, in the server's order, except that a sub-agent's session
 * (`spawnedBySessionId`) comes right after the session that spawned it, when
 * that one is listed, and says whose sub-agent it is.
 */
export function sessionPicks(sessions: SessionInfo[], now: number, open: ReadonlySet<string>): SessionPick[] {
  const byId = new Map(sessions.map((s) => [s.sessionId, s]));
  const spawnedBy = (s: SessionInfo): SessionInfo | undefined => (s.spawnedBySessionId === undefined ? undefined : byId.get(s.spawnedBySessionId));
  const ordered = new Set<SessionInfo>();
  const place = (s: SessionInfo): void => {
    ordered.add(s);
    for (const child of sessions) {
      if (spawnedBy(child) === s && !ordered.has(child)) {
        place(child);
      }
    }
  };
  for (const s of sessions) {
    if (spawnedBy(s) === undefined) {
      place(s);
    }
  }
  for (const s of sessions) {
    ordered.add(s); // (a broken chain of spawners: in the server's order)
  }
  return [...ordered].map((s) => {
    const turns = s.turnCount === 1 ? '1 turn' : `${s.turnCount} turns`;
    const parts = [turns];
    if (s.costUsd !== undefined && s.costUsd > 0) {
      parts.push(shortCost(s.costUsd));
    }
    const parent = spawnedBy(s);
    if (s.spawnedBySessionId !== undefined) {
      parts.unshift(parent === undefined ? 'sub-agent' : `sub-agent of “${untitled(parent.title)}”`);
    }
    if (s.cwd !== undefined) {
      parts.push(s.cwd);
    }
    if (open.has(s.sessionId)) {
      parts.push('open in a chat');
    }
    return {
      sessionId: s.sessionId,
      label: untitled(s.title),
      description: relativeTime(s.updatedAt, now),
      detail: parts.join(' · '),
    };
  });
}

function untitled(title: string): string {
  return title.trim() === '' ? '(untitled session)' : title;
}

/** A tab title from the first words of the first user input. */
export function chatTitle(text: string, fallback: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') {
    return fallback;
  }
  return line.length > 32 ? `${line.slice(0, 31)}…` : line;
}
