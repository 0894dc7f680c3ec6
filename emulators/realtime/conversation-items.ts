import type { ConversationItem, RealtimeClientEvent } from 'openai/resources/realtime/realtime';
import { base64ToPcm } from './audio';
import type { Sink } from './context';
import { errorEvent, newId } from './protocol';
import type { RealtimeSession } from './session';

type ItemEvent = Extract<
  RealtimeClientEvent,
  {
    type:
      | 'conversation.item.create'
      | 'conversation.item.retrieve'
      | 'conversation.item.delete'
      | 'conversation.item.truncate';
  }
>;

/** `conversation.item.*` client events: create (with `previous_item_id`), retrieve, delete, truncate. */
export function handleItemEvent(
  s: RealtimeSession,
  sink: Sink,
  e: ItemEvent,
  fail: (code: string, message: string, param?: string) => void,
): void {
  switch (e.type) {
    case 'conversation.item.create':
      return createItem(s, sink, e.item, e.previous_item_id, e.event_id);
    case 'conversation.item.retrieve': {
      const item = s.items.find((i) => i.id === e.item_id);
      if (!item)
        return fail(
          'item_retrieve_invalid_item_id',
          `Error retrieving item: the item with id '${e.item_id}' does not exist.`,
          'item_id',
        );
      s.emit({ type: 'conversation.item.retrieved', item });
      return;
    }
    case 'conversation.item.delete': {
      const idx = s.items.findIndex((i) => i.id === e.item_id);
      if (idx < 0)
        return fail(
          'item_delete_invalid_item_id',
          `Error deleting item: the item with id '${e.item_id}' does not exist.`,
          'item_id',
        );
      s.items.splice(idx, 1);
      s.emit({ type: 'conversation.item.deleted', item_id: e.item_id });
      return;
    }
    case 'conversation.item.truncate': {
      const item = s.items.find((i) => i.id === e.item_id);
      if (!item || item.type !== 'message' || item.role !== 'assistant') {
        return fail(
          'item_truncate_invalid_item_id',
          `Error truncating item: the item with id '${e.item_id}' is not an assistant message.`,
          'item_id',
        );
      }
      if (!item.content[e.content_index])
        return fail('invalid_value', `Invalid content_index ${e.content_index}.`, 'content_index');
      const audioMs = s.audioMs.get(e.item_id) ?? 0;
      if (e.audio_end_ms > audioMs)
        return fail(
          'invalid_value',
          `audio_end_ms ${e.audio_end_ms} is beyond the audio's ${audioMs}ms.`,
          'audio_end_ms',
        );
      s.emit({
        type: 'conversation.item.truncated',
        item_id: e.item_id,
        content_index: e.content_index,
        audio_end_ms: e.audio_end_ms,
      });
      return;
    }
  }
}

function createItem(
  s: RealtimeSession,
  sink: Sink,
  raw: ConversationItem,
  previousItemId: string | null | undefined,
  clientEventId?: string,
): void {
  const fail = (code: string, message: string, param: string) =>
    s.sendTo(sink, errorEvent(code, message, { param, clientEventId }));
  if (raw.id && s.items.some((i) => i.id === raw.id))
    return fail('item_create_invalid_item_id', `Item with id '${raw.id}' already exists.`, 'item.id');
  if (
    raw.type === 'message' &&
    raw.role === 'assistant' &&
    raw.content.some((c) => c.type !== 'output_text' && c.type !== 'output_audio')
  ) {
    return fail(
      'invalid_value',
      "Assistant messages may only contain 'output_text' or 'output_audio' content.",
      'item.content',
    );
  }
  let index = s.items.length;
  if (previousItemId === 'root') index = 0;
  else if (previousItemId) {
    const p = s.items.findIndex((i) => i.id === previousItemId);
    if (p < 0)
      return fail(
        'item_create_invalid_previous_item_id',
        `Previous item with id '${previousItemId}' does not exist.`,
        'previous_item_id',
      );
    index = p + 1;
  }
  const item = {
    ...raw,
    id: raw.id ?? newId('item'),
    object: 'realtime.item',
    status: 'completed',
  } as ConversationItem;
  s.insertItem(item, index);
  // The scripted model needs words: audio a client puts in a user message is recognized like spoken audio.
  if (item.type === 'message' && item.role === 'user') {
    item.content.forEach((c, i) => {
      if (c.type === 'input_audio' && c.audio && !c.transcript) {
        s.track(
          item.id!,
          s.recognize(base64ToPcm(c.audio)).then((t) => void (item.content[i]!.transcript = t)),
        );
      }
    });
  }
}

/** Events never echo input audio back (the service does not either): only the transcript travels. */
export function stripAudio(item: ConversationItem): ConversationItem {
  if (item.type !== 'message') return item;
  if (!item.content.some((c) => 'audio' in c && c.audio)) return item;
  return {
    ...item,
    content: item.content.map((c) => ('audio' in c && c.audio ? { ...c, audio: undefined } : c)),
  } as ConversationItem;
}
