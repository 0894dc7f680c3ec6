import { str, type ServerEvent } from './events';

/**
 * What the page needs from the service but, on Azure WebRTC with `webrtcfilter=on`, no longer gets on its data
 * channel: the filter passes only speech start/stop, output audio start/stop, completed input transcripts,
 * conversation items and output text / transcript deltas (so the instructions and tool schemas in session and
 * response events stay private). The worker relays the rest over Web PubSub, reduced to ids, statuses and
 * codes: never a session, instructions, tool arguments or outputs (tool runs have their own summary events).
 */
export type PageRealtimeEvent =
  | { type: 'input_audio_buffer.committed'; item_id: string; previous_item_id?: string }
  | { type: 'conversation.item.input_audio_transcription.failed'; item_id: string }
  | { type: 'response.created' }
  | { type: 'response.done'; response: { status?: string; output: { id: string }[] } }
  | { type: 'output_audio_buffer.cleared' }
  | { type: 'conversation.item.truncated'; item_id: string };

/** The page-safe form of a server event the filter withholds; undefined for everything else. */
export function pageEventOf(ev: ServerEvent): PageRealtimeEvent | undefined {
  switch (ev.type) {
    case 'input_audio_buffer.committed': {
      const item_id = str(ev.item_id);
      const previous_item_id = str(ev.previous_item_id);
      return item_id ? { type: ev.type, item_id, ...(previous_item_id ? { previous_item_id } : {}) } : undefined;
    }
    case 'conversation.item.input_audio_transcription.failed':
    case 'conversation.item.truncated': {
      const item_id = str(ev.item_id);
      return item_id ? { type: ev.type, item_id } : undefined;
    }
    case 'response.created':
    case 'output_audio_buffer.cleared':
      return { type: ev.type };
    case 'response.done': {
      const output = (ev.response?.output ?? []).flatMap((o) => (str(o.id) ? [{ id: o.id! }] : []));
      const status = str(ev.response?.status);
      return { type: ev.type, response: { ...(status ? { status } : {}), output } };
    }
    default:
      return undefined;
  }
}
