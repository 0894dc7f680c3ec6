import { Api, loadConfig, type AgentSummary, type SessionGrant } from './api';
import type { RealtimeCall } from './call';
import { handleServerEvent, Turns, type EventSinks } from './events';
import { describe, micError, UserFacingError } from './failures';
import { imageToDataUrl } from './image';
import { showCost } from './cost';
import { subscribe, type PushEvent } from './push';
import { openCall } from './session-flow';
import { ToolCards } from './tools';
import { Transcript } from './transcript';
import { els, progress, setSpeechOnly, showError, showPhase, type Phase } from './ui';

const transcript = new Transcript(els.transcript);
const tools = new ToolCards(els.tools);
const turns = new Turns(els.timings);
/** Where a realtime event lands on the page, from the data channel or relayed by the worker. */
const eventSinks: EventSinks = {
  transcript,
  turns,
  setActivity: (a) => phase === 'live' && setPhase('live', a),
  showError,
};

let api: Api;
let agents: AgentSummary[] = [];
let call: RealtimeCall | undefined;
let mic: MediaStream | undefined;
let grant: SessionGrant | undefined;
let stopPush: (() => void) | undefined;
let pendingImage: string | undefined;
let phase: Phase = 'idle';
let statsTimer: ReturnType<typeof setInterval> | undefined;
let reconnectAttempts = 0;
let lastStateAt = 0;

/** Whether the agent's calls are brokered (Live), which makes them speech only on the page. */
function setSpeechOnlyFor(agentId: string): boolean {
  const brokered = agents.find((a) => a.id === agentId)?.connect === 'sdp';
  setSpeechOnly(brokered);
  return brokered;
}

function setPhase(p: Phase, activity?: string) {
  phase = p;
  showPhase(p, activity);
}

async function init() {
  showPhase('idle');
  try {
    const config = await loadConfig();
    if (config.authMode === 'dev') {
      els.userField.hidden = false;
      els.userId.value = localStorage.getItem('voice-agent.userId') ?? `dev-${crypto.randomUUID().slice(0, 8)}`;
      els.userId.addEventListener('change', () => localStorage.setItem('voice-agent.userId', els.userId.value.trim()));
      localStorage.setItem('voice-agent.userId', els.userId.value);
    }
    api = new Api(config, () => els.userId.value.trim());
    agents = await api.agents();
    els.agent.replaceChildren(...agents.map((a) => new Option(a.displayName, a.id)));
    if (!agents.length) throw new UserFacingError('no_agents', 'No agents are defined on the backend yet.');
    els.agent.disabled = false;
    showAgent();
    showPhase('idle');
  } catch (err) {
    els.agent.replaceChildren(new Option('Agents unavailable', ''));
    showError(describe(err));
  }
}

function showAgent() {
  const a = agents.find((x) => x.id === els.agent.value);
  els.agentDescription.textContent = a
    ? [a.description, a.voice && `Voice: ${a.voice}`].filter(Boolean).join(' · ')
    : '';
}

/** Start (or resume) a call: microphone, session, WebRTC, call id to the backend, live updates. */
async function start(opts: { withMic: boolean; resumeSessionId?: string }) {
  showError(undefined);
  els.textOnly.hidden = true;
  const began = performance.now();
  setPhase(opts.resumeSessionId ? 'reconnecting' : 'connecting');
  try {
    if (opts.withMic && !mic) {
      progress('Asking for the microphone…');
      try {
        mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
      } catch (err) {
        els.textOnly.hidden = false;
        throw micError(err);
      }
    }
    progress(opts.resumeSessionId ? 'Resuming the session…' : 'Creating a session…');
    // A session resumes with its own agent, whatever the picker shows.
    const agentId = opts.resumeSessionId && grant?.agent?.id ? grant.agent.id : els.agent.value;
    if (!opts.resumeSessionId) showCost(els.callCost, undefined);
    const opened = await openCall(
      api,
      {
        agentId,
        resumeSessionId: opts.resumeSessionId,
        brokered: setSpeechOnlyFor(agentId),
        onGrant: (g) => {
          grant = g;
          els.sessionId.textContent = g.sessionId;
          els.currentAgent.textContent = g.agent?.displayName ?? agentId;
        },
      },
      { mic, audio: els.audio, onEvent: (ev) => handleServerEvent(ev, eventSinks), onDropped },
    );
    call = opened.call;
    call.setMuted(els.mute.getAttribute('aria-pressed') === 'true');
    const sessionId = opened.grant.sessionId;
    // The backend's worker runs the tools over its sideband connection; a question asked before it has joined
    // would get a tool call nobody answers. Hold the microphone (and the text box stays disabled) until it has.
    progress('Waiting for the agent to join…');
    call.setMuted(true);
    const joined = await waitForBackendLive(sessionId, 15_000);
    call.setMuted(els.mute.getAttribute('aria-pressed') === 'true');
    if (!joined)
      transcript.note('The agent backend has not joined yet: answers that need a lookup may wait until it does.');
    els.connectTime.textContent = `${Math.round(performance.now() - began)} ms`;
    reconnectAttempts = 0;
    setPhase('live', mic ? 'listening' : 'type a message');
    transcript.note(
      opts.resumeSessionId
        ? 'Reconnected: the session continues.'
        : `Connected to ${els.agent.selectedOptions[0]?.text ?? 'the agent'}.`,
    );
    startStats();
    void startPush(sessionId);
    if (!mic) els.message.focus();
  } catch (err) {
    teardownCall();
    if (opts.resumeSessionId) return reconnectFailed(err);
    setPhase('failed');
    showError(describe(err));
  }
}

async function startPush(sessionId: string) {
  stopPush?.();
  stopPush = undefined;
  els.pushStatus.textContent = 'connecting…';
  try {
    stopPush = await subscribe(async () => (await api.negotiate(sessionId)).url, `session-${sessionId}`, {
      onEvent: onPush,
      onStatus: (ok, detail) => {
        els.pushStatus.textContent = ok ? 'connected' : `disconnected${detail ? ` (${detail})` : ''}`;
        // Events published before this (re)connection are not replayed: read the current state once.
        if (ok) void refreshBackendState(sessionId);
      },
    });
  } catch (err) {
    // The call works without live updates; say so rather than failing it.
    els.pushStatus.textContent = `unavailable: ${describe(err)}`;
  }
}

/** Polls the session until the backend reports it live; false after `timeoutMs`, an error if it ended. */
async function waitForBackendLive(sessionId: string, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const info = await api.session(sessionId).catch(() => undefined);
    if (info?.state) els.backendState.textContent = info.state;
    if (info?.state === 'live') return true;
    if (info?.state === 'ended' || info?.state === 'failed') {
      throw new UserFacingError(
        'backend_ended',
        `The backend ended the session before it started (${info.reason ?? info.state}).`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function refreshBackendState(sessionId: string) {
  const seenBefore = lastStateAt;
  try {
    const info = await api.session(sessionId);
    // A pushed state that arrived meanwhile is newer than this read.
    if (info.state && lastStateAt === seenBefore && grant?.sessionId === sessionId) {
      els.backendState.textContent =
        typeof info.reason === 'string' && info.reason ? `${info.state} (${info.reason})` : info.state;
    }
  } catch {
    /* the pushed events still arrive; the state fills in with the next one */
  }
}

function onPush(e: PushEvent) {
  if (grant && e.sessionId !== grant.sessionId) return;
  switch (e.type) {
    case 'state':
      lastStateAt = Date.now();
      els.backendState.textContent = e.reason ? `${e.state} (${e.reason})` : e.state;
      if (e.state === 'failed' && phase === 'live')
        showError(`The backend ended the session: ${e.reason ?? 'failed'}.`);
      if ((e.state === 'ended' || e.state === 'failed') && phase !== 'live') stopPushSoon(0);
      break;
    case 'tool.started':
      els.toolsEmpty.hidden = true;
      tools.started(e);
      break;
    case 'tool.finished':
      els.toolsEmpty.hidden = true;
      tools.finished(e);
      break;
    case 'agent':
      // A handoff: the worker applied another agent to the call.
      els.currentAgent.textContent = e.displayName;
      els.currentAgent.dataset.agentId = e.agentId;
      break;
    case 'transcript':
      // The persisted text is authoritative; it also fills in anything the data channel missed.
      transcript.complete(e.itemId, e.role, e.text);
      break;
    case 'cost':
      showCost(els.callCost, e);
      break;
    case 'realtime':
      // What a filtered data channel leaves out (answer started/done, barge-in, committed turns) comes this way.
      if (call) handleServerEvent(e.event, eventSinks);
      break;
  }
}

function startStats() {
  clearInterval(statsTimer);
  statsTimer = setInterval(async () => {
    if (!call) return;
    const bytes = await call.audioBytesReceived().catch(() => 0);
    els.audioIn.dataset.bytes = String(bytes);
    els.audioIn.textContent = `${(bytes / 1024).toFixed(1)} KiB`;
  }, 1000);
}

function teardownCall() {
  clearInterval(statsTimer);
  call?.close();
  call = undefined;
}

function stopPushSoon(ms: number) {
  const stop = stopPush;
  stopPush = undefined;
  if (stop) setTimeout(stop, ms);
}

function endCall() {
  teardownCall();
  mic?.getTracks().forEach((t) => t.stop());
  mic = undefined;
  setPhase('ended');
  transcript.note('Call ended.');
  // Keep listening briefly so the backend's final state reaches the page.
  stopPushSoon(10_000);
  els.start.focus();
}

function onDropped(reason: string, kind: 'network' | 'remote') {
  teardownCall();
  setPhase('dropped');
  transcript.note(`Connection lost: ${reason}.`);
  if (kind === 'remote') {
    // Not a network problem: resuming is the person's choice, not a loop.
    showError(`The call was closed by the service (${reason}). Press Reconnect to resume the session.`);
    return;
  }
  showError(`Connection lost: ${reason}. Reconnecting…`);
  scheduleReconnect();
}

function scheduleReconnect() {
  if (!navigator.onLine) {
    showError('You are offline. The call resumes when the network is back, or press Reconnect.');
    window.addEventListener('online', () => phase === 'dropped' && void reconnect(), { once: true });
    return;
  }
  const delay = 1000 * 2 ** reconnectAttempts;
  reconnectAttempts++;
  if (reconnectAttempts > 3) {
    showError('The connection could not be restored automatically. Press Reconnect to try again.');
    return;
  }
  setTimeout(() => phase === 'dropped' && void reconnect(), delay);
}

async function reconnect() {
  if (!grant) return start({ withMic: true });
  await start({ withMic: Boolean(mic), resumeSessionId: grant.sessionId });
}

function reconnectFailed(err: unknown) {
  const code = err instanceof UserFacingError ? err.code : '';
  // The backend said this session cannot continue (too late, failed, not ours): offer a new call instead.
  if (code === 'auth' || code === 'not_found' || code.startsWith('resume_')) {
    setPhase('failed');
    showError(`The session could not be resumed: ${describe(err)} Press Start to begin a new call.`);
    return;
  }
  setPhase('dropped');
  showError(`Reconnecting failed: ${describe(err)}`);
  scheduleReconnect();
}

async function sendMessage() {
  const text = els.message.value.trim();
  if (!call || (!text && !pendingImage)) return;
  const id = `item_web_${crypto.randomUUID().replace(/-/g, '').slice(0, 20)}`;
  const content: Record<string, unknown>[] = [];
  if (text) content.push({ type: 'input_text', text });
  if (pendingImage) content.push({ type: 'input_image', image_url: pendingImage });
  const sent = call.send({ type: 'conversation.item.create', item: { id, type: 'message', role: 'user', content } });
  if (!sent) return showError('The connection is not open; the message was not sent.');
  call.send({ type: 'response.create' });
  transcript.complete(id, 'user', text || '(image)');
  if (pendingImage) transcript.image(id, 'user', pendingImage);
  turns.start(text ? 'typed' : 'image');
  els.message.value = '';
  clearImage();
}

async function attach(file: Blob | null | undefined) {
  if (!file) return;
  try {
    pendingImage = await imageToDataUrl(file);
    els.attachmentPreview.src = pendingImage;
    els.attachment.hidden = false;
    showError(undefined);
  } catch (err) {
    showError(describe(err));
  }
}

function clearImage() {
  pendingImage = undefined;
  els.attachment.hidden = true;
  els.attachmentPreview.removeAttribute('src');
  els.image.value = '';
}

els.agent.addEventListener('change', showAgent);
els.start.addEventListener('click', () => void start({ withMic: true }));
els.textOnly.addEventListener('click', () => void start({ withMic: false }));
els.end.addEventListener('click', endCall);
els.reconnect.addEventListener('click', () => {
  reconnectAttempts = 0;
  void reconnect();
});
els.mute.addEventListener('click', () => {
  const muted = els.mute.getAttribute('aria-pressed') !== 'true';
  // A toggle keeps its name; aria-pressed (and the pressed style) carries the state.
  els.mute.setAttribute('aria-pressed', String(muted));
  els.mute.title = muted ? 'Microphone muted' : 'Microphone on';
  call?.setMuted(muted);
});
els.interrupt.addEventListener('click', () => {
  call?.interrupt();
  turns.cancel();
});
els.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  void sendMessage();
});
els.message.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    void sendMessage();
  }
});
els.message.addEventListener('paste', (e) => {
  const item = [...(e.clipboardData?.items ?? [])].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
  if (item) {
    e.preventDefault();
    void attach(item.getAsFile());
  }
});
els.image.addEventListener('change', () => void attach(els.image.files?.[0]));
els.removeImage.addEventListener('click', clearImage);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && phase === 'live') {
    call?.interrupt();
    turns.cancel();
  }
});
window.addEventListener('pagehide', () => call?.close());
// Lets an end-to-end test cut the call the way a network failure does; the recovery path is the real one.
window.addEventListener(
  'voice-agent:simulate-network-drop',
  () => call && onDropped('simulated network drop', 'network'),
);

void init();
