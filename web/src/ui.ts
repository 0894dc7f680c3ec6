/** Element lookups and small view helpers; the controller in main.ts owns the behaviour. */
const $ = <T extends HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
};

export const els = {
  state: $<HTMLSpanElement>('state'),
  agent: $<HTMLSelectElement>('agent'),
  agentDescription: $<HTMLParagraphElement>('agent-description'),
  userField: $<HTMLDivElement>('user-field'),
  userId: $<HTMLInputElement>('user-id'),
  start: $<HTMLButtonElement>('start'),
  textOnly: $<HTMLButtonElement>('text-only'),
  mute: $<HTMLButtonElement>('mute'),
  interrupt: $<HTMLButtonElement>('interrupt'),
  end: $<HTMLButtonElement>('end'),
  reconnect: $<HTMLButtonElement>('reconnect'),
  progress: $<HTMLParagraphElement>('progress'),
  error: $<HTMLDivElement>('error'),
  transcript: $<HTMLOListElement>('transcript'),
  composer: $<HTMLFormElement>('composer'),
  message: $<HTMLTextAreaElement>('message'),
  image: $<HTMLInputElement>('image'),
  attachment: $<HTMLDivElement>('attachment'),
  attachmentPreview: $<HTMLImageElement>('attachment-preview'),
  removeImage: $<HTMLButtonElement>('remove-image'),
  send: $<HTMLButtonElement>('send'),
  tools: $<HTMLDivElement>('tools'),
  toolsEmpty: $<HTMLParagraphElement>('tools-empty'),
  sessionId: $<HTMLElement>('session-id'),
  backendState: $<HTMLElement>('backend-state'),
  currentAgent: $<HTMLElement>('current-agent'),
  pushStatus: $<HTMLElement>('push-status'),
  connectTime: $<HTMLElement>('connect-time'),
  audioIn: $<HTMLElement>('audio-in'),
  callCost: $<HTMLElement>('call-cost'),
  timings: $<HTMLOListElement>('timings'),
  audio: $<HTMLAudioElement>('remote-audio'),
};

export type Phase = 'idle' | 'connecting' | 'live' | 'dropped' | 'reconnecting' | 'ended' | 'failed';

const PHASE_TEXT: Record<Phase, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  live: 'Live',
  dropped: 'Connection lost',
  reconnecting: 'Reconnecting…',
  ended: 'Call ended',
  failed: 'Failed',
};

/**
 * A Live call is speech only: its data channel accepts nothing from the page (no typed messages, no barge-in
 * command; the model hears interruptions itself), so those controls stay off.
 */
let speechOnly = false;
export const setSpeechOnly = (on: boolean) => void (speechOnly = on);

/** Enables exactly the controls that make sense in a phase. */
export function showPhase(phase: Phase, activity?: string) {
  els.state.dataset.phase = phase;
  els.state.textContent = activity && phase === 'live' ? `Live · ${activity}` : PHASE_TEXT[phase];
  const live = phase === 'live';
  const busy = phase === 'connecting' || phase === 'reconnecting';
  const noAgents = !els.agent.value;
  els.start.disabled = live || busy || noAgents;
  els.start.textContent = phase === 'ended' || phase === 'failed' ? 'Start a new call' : 'Start';
  els.agent.disabled = live || busy || phase === 'dropped' || noAgents;
  els.mute.disabled = !live;
  els.interrupt.disabled = !live || speechOnly;
  els.end.disabled = !(live || phase === 'dropped' || busy);
  els.message.disabled = !live || speechOnly;
  els.image.disabled = !live || speechOnly;
  els.send.disabled = !live || speechOnly;
  els.reconnect.hidden = phase !== 'dropped';
  if (!busy) els.progress.textContent = '';
}

export function showError(message: string | undefined) {
  els.error.hidden = !message;
  els.error.textContent = message ?? '';
}

export function progress(text: string) {
  els.progress.textContent = text;
}
