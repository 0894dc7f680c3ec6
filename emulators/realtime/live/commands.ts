import { pcmToBase64, RATE } from '../audio';
import { newId } from '../protocol';
import { mergeSession } from '../session-config';
import { decodeInput, encodeOutput } from './audio-format';
import { applyUpdate, updateProblem } from './config';
import { delegationTools } from './engine';
import type { LiveClientMessage } from './events';
import type { LiveSession, LiveSink } from './session';

type Json = Record<string, unknown>;
/** Appended context is limited to 500 tokens; the emulator counts 4 characters a token. */
const MAX_APPEND_CHARS = 2000;
const MAX_FIXTURE_BYTES = 30 * RATE * 2;
const DTMF = /^[0-9A-D*#]$/;

/** Applies one client command (already checked against the connection's event set and grant). */
export function handleLiveCommand(s: LiveSession, sink: LiveSink, e: LiveClientMessage): void {
  const cid = typeof e.event_id === 'string' ? { client_event_id: e.event_id } : {};
  const fail = (code: string, message: string, param?: string) => s.fail(sink, e, code, message, param);
  const requireResponses = () => {
    if (s.delegations.mode === 'responses') return true;
    fail('invalid_value', `${e.type} requires Responses delegation.`, 'type');
    return false;
  };
  switch (e.type) {
    case 'session.start':
      return fail('invalid_value', 'The session has already started; send session.start once, first.', 'type');
    case 'session.update': {
      const problem = updateProblem(e.session, s.resource);
      if (problem) return fail(problem.code, problem.message, problem.param);
      s.resource = applyUpdate(s.resource, e.session as Json);
      const tools = delegationTools(s.ctx, s.resource);
      s.engine.config = mergeSession(s.engine.config, {
        tools: tools.map((name) => ({ type: 'function' as const, name, parameters: {} })),
      });
      return s.emit({ type: 'session.updated', session: s.resource, ...cid });
    }
    case 'session.input_audio.append': {
      if (typeof e.audio !== 'string')
        return fail('missing_required_parameter', "Missing required parameter: 'audio'.", 'audio');
      return s.engine.appendAudio(decodeInput(e.audio, s.resource));
    }
    case 'session.input_audio.mute':
      s.engine.muted = true;
      return s.emit({ type: 'session.input_audio.muted', ...cid });
    case 'session.input_audio.unmute':
      s.engine.muted = false;
      return s.emit({ type: 'session.input_audio.unmuted', ...cid });
    case 'session.output_audio.fixture.play':
      return playFixture(s, e, cid, fail);
    case 'transport.dtmf.send': {
      if (s.transport !== 'sip')
        return fail('invalid_value', 'transport.dtmf.send is supported only for SIP calls.', 'type');
      if (typeof e.event !== 'string' || !DTMF.test(e.event))
        return fail('invalid_value', "Invalid value for 'event': one of 0-9, A-D, * or #.", 'event');
      return s.emitTo(['sideband'], { type: 'transport.dtmf.sent', event: e.event, ...cid });
    }
    case 'session.instructions.append':
    case 'session.thinking.append':
    case 'session.commentary.append': {
      if (typeof e.content !== 'string')
        return fail('missing_required_parameter', "Missing required parameter: 'content'.", 'content');
      if (e.content.length > MAX_APPEND_CHARS)
        return fail('invalid_value', "Invalid value for 'content': at most 500 tokens.", 'content');
      if (!('delegation_id' in e))
        return fail('missing_required_parameter', "Missing required parameter: 'delegation_id'.", 'delegation_id');
      const id = e.delegation_id;
      if (id !== null) {
        if (typeof id !== 'string') return fail('invalid_value', "Invalid value for 'delegation_id'.", 'delegation_id');
        if (s.delegations.mode === 'responses')
          return fail('invalid_value', 'delegation_id must be null with Responses delegation.', 'delegation_id');
        if (!s.delegations.byId.has(id))
          return fail('invalid_value', `No delegation with id '${id.slice(0, 64)}'.`, 'delegation_id');
      }
      const at = s.elapsedMs;
      s.emit({ type: e.type.replace(/\.append$/, '.appended'), start_ms: at, end_ms: at, ...cid });
      if (e.type === 'session.thinking.append') s.delegations.cancelAcknowledgements();
      if (e.type === 'session.commentary.append') s.delegations.commentary(e.content, id as string | null);
      return;
    }
    case 'decision.item.create': {
      const item = e.item as Json | undefined;
      if (!item || typeof item !== 'object')
        return fail('missing_required_parameter', "Missing required parameter: 'item'.", 'item');
      const stored = { ...item, id: typeof item.id === 'string' ? item.id : newId('item') };
      decisionItems(s).set(stored.id, stored);
      return s.emit({ type: 'decision.item.created', item: stored, ...cid });
    }
    case 'decision.item.delete': {
      const id = String(e.item_id ?? '');
      if (!decisionItems(s).delete(id))
        return fail('invalid_value', `No decision item with id '${id.slice(0, 64)}'.`, 'item_id');
      return s.emit({ type: 'decision.item.deleted', item_id: id, ...cid });
    }
    case 'decision.create':
      return fail('unsupported', 'The emulator does not evaluate Decisions.', 'type');
    case 'response.item.create': {
      if (!requireResponses()) return;
      const item = e.item as Json | undefined;
      if (!item || typeof item !== 'object')
        return fail('missing_required_parameter', "Missing required parameter: 'item'.", 'item');
      const problem = s.delegations.addBackendItem(item);
      if (problem) return fail('invalid_value', problem, 'item');
      return;
    }
    case 'response.create':
      if (!requireResponses()) return;
      return s.delegations.backendRespond();
    case 'session.close':
      return s.close('close_requested');
    default:
      return fail('invalid_value', `Unsupported client event '${e.type}'.`, 'type');
  }
}

const items = new WeakMap<LiveSession, Map<string, Json>>();
function decisionItems(s: LiveSession): Map<string, Json> {
  let m = items.get(s);
  if (!m) items.set(s, (m = new Map()));
  return m;
}

function playFixture(
  s: LiveSession,
  e: LiveClientMessage,
  cid: Json,
  fail: (code: string, message: string, param?: string) => void,
): void {
  if (typeof e.audio !== 'string')
    return fail('missing_required_parameter', "Missing required parameter: 'audio'.", 'audio');
  const bytes = Buffer.from(e.audio, 'base64');
  if (bytes.length === 0 || bytes.length % 2 !== 0)
    return fail('invalid_value', "Invalid value for 'audio': PCM16 expected.", 'audio');
  if (bytes.length > MAX_FIXTURE_BYTES)
    return fail('invalid_value', "Invalid value for 'audio': at most 30 seconds.", 'audio');
  s.engine.active?.cancel('client_cancelled');
  s.emit({ type: 'session.output_audio.fixture.playing', ...cid });
  const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1).slice();
  const played = () => s.emit({ type: 'session.output_audio.fixture.played', ...cid });
  const media = s.engine.media;
  if (media) {
    void media.play(pcm, () => s.closed !== undefined).then(played);
    return;
  }
  for (let i = 0; i < pcm.length; i += RATE / 10) {
    const chunk = pcmToBase64(pcm.subarray(i, i + RATE / 10));
    s.emitTo(['primary'], { type: 'session.output_audio.delta', delta: encodeOutput(chunk, s.resource) }, false);
  }
  s.outputAudioMs += (pcm.length / RATE) * 1000;
  played();
}
