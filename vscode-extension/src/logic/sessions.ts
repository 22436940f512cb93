/** How sessions read in the `Yoi: Resume Session…` picker. Pure. */

import type { SessionInfo } from '../protocol';

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

export function sessionPicks(sessions: SessionInfo[], now: number, open: ReadonlySet<string>): SessionPick[] {
  return sessions.map((s) => {
    const turns = s.turnCount === 1 ? '1 turn' : `${s.turnCount} turns`;
    const parts = [turns];
    if (s.cwd !== undefined) {
      parts.push(s.cwd);
    }
    if (open.has(s.sessionId)) {
      parts.push('open in a chat');
    }
    return {
      sessionId: s.sessionId,
      label: s.title.trim() === '' ? '(untitled session)' : s.title,
      description: relativeTime(s.updatedAt, now),
      detail: parts.join(' · '),
    };
  });
}

/** A tab title from the first words of the first user input. */
export function chatTitle(text: string, fallback: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') {
    return fallback;
  }
  return line.length > 32 ? `${line.slice(0, 31)}…` : line;
}
