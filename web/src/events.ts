import type { ServerEvent } from './call';
import { formatMs } from './tools';
import type { Role, Transcript } from './transcript';

/**
 * Time to first audio per turn: from the end of the person's turn (speech stopped, or a message sent) to the
 * service starting to play the answer (`output_audio_buffer.started`, sent on WebRTC calls).
 */
export class Turns {
  private current: { n: number; kind: string; at: number; li: HTMLLIElement } | undefined;
  private count = 0;

  constructor(private readonly list: HTMLOListElement) {}

  start(kind: string) {
    if (this.current) this.finish('no audio');
    const li = document.createElement('li');
    li.textContent = `Turn ${++this.count} (${kind}): waiting…`;
    this.list.append(li);
    this.current = { n: this.count, kind, at: performance.now(), li };
  }

  firstAudio() {
    if (!this.current) return;
    const ms = performance.now() - this.current.at;
    this.current.li.dataset.ms = String(Math.round(ms));
    this.finish(formatMs(ms));
  }

  cancel() {
    if (this.current) this.finish('interrupted');
  }

  private finish(result: string) {
    if (!this.current) return;
    this.current.li.textContent = `Turn ${this.current.n} (${this.current.kind}): ${result}`;
    this.current = undefined;
  }
}

export interface EventSinks {
  transcript: Transcript;
  turns: Turns;
  setActivity: (activity: string) => void;
  showError: (message: string | undefined) => void;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Applies one `oai-events` server event to the page (GA names, and the beta names where they differ). */
export function handleServerEvent(ev: ServerEvent, s: EventSinks) {
  const itemId = str(ev.item_id);
  switch (ev.type) {
    case 'input_audio_buffer.speech_started':
      s.setActivity('you are speaking');
      break;
    // Live: only transcript deltas reach the page (its data channel permissions); the finished items come from the
    // backend over Web PubSub.
    case 'session.input_transcript.delta':
      s.setActivity('you are speaking');
      break;
    case 'session.output_transcript.delta':
      s.setActivity('agent speaking');
      break;
    case 'input_audio_buffer.speech_stopped':
      s.setActivity('thinking');
      s.turns.start('spoken');
      break;
    case 'input_audio_buffer.committed':
      if (itemId) s.transcript.placeholder(itemId, 'user', str(ev.previous_item_id));
      break;
    case 'conversation.item.added':
    case 'conversation.item.created': {
      const item = ev.item as { id?: string; type?: string; role?: string } | undefined;
      if (item?.id && item.type === 'message' && (item.role === 'user' || item.role === 'assistant')) {
        s.transcript.placeholder(item.id, item.role as Role, str(ev.previous_item_id));
      }
      break;
    }
    case 'conversation.item.input_audio_transcription.delta':
      if (itemId) s.transcript.append(itemId, 'user', str(ev.delta) ?? '');
      break;
    case 'conversation.item.input_audio_transcription.completed':
      if (itemId) s.transcript.complete(itemId, 'user', str(ev.transcript));
      break;
    case 'conversation.item.input_audio_transcription.failed':
      if (itemId) s.transcript.complete(itemId, 'user', '(could not transcribe)');
      break;
    case 'response.created':
      s.setActivity('answering');
      break;
    case 'response.output_audio_transcript.delta':
    case 'response.output_text.delta':
    case 'response.audio_transcript.delta':
    case 'response.text.delta':
      if (itemId) s.transcript.append(itemId, 'assistant', str(ev.delta) ?? '');
      break;
    case 'response.output_audio_transcript.done':
    case 'response.audio_transcript.done':
      if (itemId) s.transcript.complete(itemId, 'assistant', str(ev.transcript));
      break;
    case 'response.output_text.done':
    case 'response.text.done':
      if (itemId) s.transcript.complete(itemId, 'assistant', str(ev.text));
      break;
    case 'output_audio_buffer.started':
      s.setActivity('agent speaking');
      s.turns.firstAudio();
      break;
    case 'output_audio_buffer.stopped':
      s.setActivity('listening');
      break;
    case 'output_audio_buffer.cleared':
      s.setActivity('listening');
      s.turns.cancel();
      break;
    case 'conversation.item.truncated':
      // Barge-in (by voice or the Interrupt button): the service cut the answer where playback stopped.
      if (itemId) s.transcript.interrupted(itemId);
      break;
    case 'response.done': {
      const response = ev.response as { status?: string; output?: { id?: string }[] } | undefined;
      if (response?.status === 'cancelled') {
        for (const o of response.output ?? []) if (o.id) s.transcript.interrupted(o.id);
        s.turns.cancel();
      }
      if (response?.status === 'failed') s.showError('The agent could not answer that turn.');
      break;
    }
    case 'error': {
      const e = ev.error as { message?: string; code?: string } | undefined;
      // Cancelling when nothing is playing is harmless; everything else is worth showing.
      if (e?.code !== 'response_cancel_not_active')
        s.showError(`The realtime service reported: ${e?.message ?? 'an error'}`);
      break;
    }
  }
}
