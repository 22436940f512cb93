/**
 * What a chat's running turn is doing, for the working indicator: from the
 * server's `phase` events, or read from the other events (servers that send
 * none).
 */

import type { ChatEvent } from '../protocol';
import type { Activity, ChatState } from './chatState';

/** The phase read from an event, for servers that send no `phase` events. */
function derivedActivity(state: ChatState, event: ChatEvent): Activity | undefined {
  if (!state.running && event.type !== 'compactStart' && event.type !== 'compactDone' && event.type !== 'compactFailed') {
    return state.activity;
  }
  switch (event.type) {
    case 'turnStart':
    case 'toolResult':
      return { phase: 'waitingForModel' };
    case 'toolCall':
      return { phase: 'runningTool', tool: event.name };
    case 'compactStart':
      return { phase: 'compacting' };
    case 'compactDone':
    case 'compactFailed':
      return state.running ? { phase: 'waitingForModel' } : undefined;
    default:
      return state.activity;
  }
}

export function withActivity(state: ChatState, event: ChatEvent): ChatState {
  let activity: Activity | undefined;
  switch (event.type) {
    case 'phase':
      activity = event.tool === undefined ? { phase: event.phase } : { phase: event.phase, tool: event.tool };
      break;
    case 'textDelta':
      activity = state.running ? { phase: 'writing' } : state.activity;
      break;
    case 'reasoningDelta':
      activity = state.running ? { phase: 'thinking' } : state.activity;
      break;
    case 'turnEnd':
      activity = undefined;
      break;
    case 'compactDone':
    case 'compactFailed':
      // between turns (or on demand) nothing else will say the work is over
      activity = state.running ? (state.phaseEvents ? state.activity : derivedActivity(state, event)) : undefined;
      break;
    case 'turnStart':
      activity = state.phaseEvents && state.activity !== undefined && state.activity.phase !== 'preparing' ? state.activity : { phase: 'waitingForModel' };
      break;
    default:
      activity = state.phaseEvents ? state.activity : derivedActivity(state, event);
  }
  if (activity === state.activity) {
    return state;
  }
  return activity === undefined ? idle(state) : { ...state, activity };
}

/** The state without an activity. */
export function idle(state: ChatState): ChatState {
  const next = { ...state };
  delete next.activity;
  return next;
}
