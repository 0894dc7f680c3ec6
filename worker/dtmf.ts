import { createHash } from 'node:crypto';
import { keypadNote } from '../shared/agents/call-tools';
import type { SidebandExtension } from './sideband';

export interface DtmfOptions {
  /** Keys pressed within this long of each other are one entry (a PIN); `#` ends an entry at once. */
  interDigitMs?: number;
}

/** Entries this short are menu choices and appear in the transcript; longer ones (PINs, account numbers) masked. */
const SHOWN_KEYS = 2;

/**
 * Keypad presses on phone calls. The service reports each key (`input_audio_buffer.dtmf_event_received`) but the
 * model never hears them: the worker collects an entry and adds it to the conversation as the caller's message,
 * so the model can use it (a menu choice, the PIN `verify_caller` asks for), then asks for an answer.
 */
export function dtmf(opts: DtmfOptions = {}): SidebandExtension {
  const interDigitMs = opts.interDigitMs ?? 2000;
  return (ctx) => {
    if (ctx.attach.transport !== 'sip') return;
    let keys = '';
    let timer: NodeJS.Timeout | undefined;
    let entries = 0;
    const flush = () => {
      clearTimeout(timer);
      if (!keys) return;
      const entry = keys;
      keys = '';
      const id = `dtmf_${createHash('sha256').update(`${ctx.sessionId}:${++entries}`).digest('hex').slice(0, 24)}`;
      ctx.send({
        type: 'conversation.item.create',
        item: {
          id,
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: keypadNote(entry) }],
        },
      });
      const digits = entry.replace(/#$/, '');
      const shown =
        digits.length <= SHOWN_KEYS ? entry : `${'•'.repeat(digits.length)}${entry.endsWith('#') ? '#' : ''}`;
      ctx.record(id, 'user', `[keypad] ${shown}`);
      ctx.gate.request({ kind: 'dtmf', coalesce: true });
    };
    const off = ctx.events.on('input_audio_buffer.dtmf_event_received', (e) => {
      const key = typeof e.event === 'string' ? e.event.slice(0, 1) : '';
      if (!/^[0-9*#A-D]$/.test(key)) return;
      keys += key;
      if (key === '#' || keys.length >= 32) flush();
      else {
        clearTimeout(timer);
        timer = setTimeout(flush, interDigitMs);
      }
    });
    return () => {
      clearTimeout(timer);
      off();
    };
  };
}
