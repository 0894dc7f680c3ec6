import type { ConversationItem } from 'openai/resources/realtime/realtime';
import { str, type ServerEvent } from './events';

/** One completed utterance, as the conversation records it. */
export interface Utterance {
  itemId: string;
  role: 'user' | 'assistant';
  text: string;
}

const joined = (parts: (string | undefined)[]) =>
  parts
    .filter((p): p is string => typeof p === 'string' && p.length > 0)
    .join(' ')
    .trim();

function userText(item: ConversationItem): string {
  if (item.type !== 'message' || item.role !== 'user' || !Array.isArray(item.content)) return '';
  return joined(item.content.map((c) => (c.type === 'input_text' ? str(c.text) : undefined)));
}

function assistantText(item: ConversationItem): string {
  if (item.type !== 'message' || item.role !== 'assistant' || !Array.isArray(item.content)) return '';
  return joined(item.content.map((c) => str(c.transcript) ?? str(c.text)));
}

/**
 * The utterance a server event completes, if any: a user's transcribed speech, a user's typed message (typed
 * messages never get a transcription event; their text is the content) or an assistant's finished message.
 * Callers de-duplicate by item id: the same item is reported by several events.
 */
export function utteranceOf(ev: ServerEvent): Utterance | undefined {
  switch (ev.type) {
    case 'conversation.item.input_audio_transcription.completed': {
      const itemId = str(ev.item_id);
      const text = str(ev.transcript)?.trim();
      return itemId && text ? { itemId, role: 'user', text } : undefined;
    }
    case 'conversation.item.added':
    case 'conversation.item.done':
    case 'conversation.item.created': {
      const itemId = str(ev.item?.id);
      const text = ev.item ? userText(ev.item) : '';
      return itemId && text ? { itemId, role: 'user', text } : undefined;
    }
    case 'response.output_item.done': {
      const itemId = str(ev.item?.id);
      const text = ev.item ? assistantText(ev.item) : '';
      return itemId && text ? { itemId, role: 'assistant', text } : undefined;
    }
    default:
      return undefined;
  }
}
