import type { ConversationItem } from 'openai/resources/realtime/realtime';
import { describe, expect, it } from 'vitest';
import { decide, type PendingCall } from '../../emulators/realtime/model';
import { loadScenarios } from '../../emulators/realtime/scenarios';

const scenarios = loadScenarios();
const user = (text: string, extra: ConversationItem[] = []): ConversationItem[] => [
  { type: 'message', role: 'user', id: 'u1', content: [{ type: 'input_text', text }] },
  ...extra,
];
const ctx = (
  items: ConversationItem[],
  tools: string[] = [],
  calls = new Map<string, PendingCall>(),
  responseInstructions?: string,
) => ({
  items,
  tools,
  instructions: '',
  calls,
  responseInstructions,
});

describe('scripted model', () => {
  it('calls a declared tool with arguments from the words, then answers from the output', () => {
    const calls = new Map<string, PendingCall>();
    const d = decide(scenarios, ctx(user('where is my order 1234'), ['support__get_order'], calls));
    expect(d).toMatchObject({ kind: 'call', name: 'support__get_order', arguments: '{"orderId":"1234"}' });
    if (d.kind !== 'call') return;
    calls.set('call_1', d.pending);
    const after = user('where is my order 1234', [
      { type: 'function_call', id: 'f1', call_id: 'call_1', name: d.name, arguments: d.arguments },
      { type: 'function_call_output', id: 'o1', call_id: 'call_1', output: '{"status":"delayed"}' },
    ]);
    expect(decide(scenarios, ctx(after, ['support__get_order'], calls))).toEqual({
      kind: 'say',
      text: 'Order 1234 is delayed.',
      answers: ['call_1'],
    });
    // A "one moment" line that started before the output came lands after it in the conversation; it did not
    // answer the output, so the next response still does.
    const late = user('where is my order 1234', [
      { type: 'function_call', id: 'f1', call_id: 'call_1', name: d.name, arguments: d.arguments },
      { type: 'function_call_output', id: 'o1', call_id: 'call_1', output: '{"status":"delayed"}' },
      { type: 'message', id: 'a1', role: 'assistant', content: [{ type: 'output_text', text: 'One moment.' }] },
    ]);
    const withState = (answered: string[]) => ({
      ...ctx(late, ['support__get_order'], calls),
      answered: new Set(answered),
    });
    expect(decide(scenarios, withState([]))).toMatchObject({ kind: 'say', text: 'Order 1234 is delayed.' });
    expect(decide(scenarios, withState(['call_1']))).not.toMatchObject({ text: 'Order 1234 is delayed.' });
  });

  it('passes a tool error on instead of inventing a result', () => {
    const calls = new Map<string, PendingCall>();
    const d = decide(scenarios, ctx(user('where is my order 9999'), ['get_order'], calls));
    if (d.kind !== 'call') throw new Error('expected a call');
    calls.set('c9', d.pending);
    const after = user('where is my order 9999', [
      { type: 'function_call', id: 'f9', call_id: 'c9', name: d.name, arguments: d.arguments },
      {
        type: 'function_call_output',
        id: 'o9',
        call_id: 'c9',
        output:
          'The get_order tool reported an error: No order 9999 was found. Ask the customer to check the order number.. Tell the user what went wrong.',
      },
    ]);
    expect(decide(scenarios, ctx(after, ['get_order'], calls))).toEqual({
      kind: 'say',
      text: 'Sorry, that did not work: No order 9999 was found.',
      answers: ['c9'],
    });
  });

  it('leaves optional arguments out when the words do not carry them', () => {
    const d = decide(scenarios, ctx(user('please open a ticket, the app crashes'), ['open_ticket']));
    expect(d.kind === 'call' && JSON.parse(d.arguments)).toEqual({ summary: 'please open a ticket, the app crashes' });
  });

  it('never calls an undeclared tool: says the rule text or falls back', () => {
    const supportNoTools = { ...ctx(user('where is my order 1234'), []), instructions: 'You are a support agent.' };
    expect(decide(scenarios, supportNoTools)).toMatchObject({ kind: 'say', text: expect.stringContaining('1234') });
    // Outside any scenario the words do not fit, the answer is the general fallback.
    expect(decide(scenarios, ctx(user('where is my order 1234'), []))).toMatchObject({
      kind: 'say',
      text: expect.stringMatching(/didn't catch/),
    });
    expect(decide(scenarios, ctx(user('what is the weather in Oslo'), ['get_time']))).toMatchObject({ kind: 'say' });
  });

  it('greets when nobody spoke, waits for pending tool output, and does not repeat itself', () => {
    expect(decide(scenarios, ctx([]))).toEqual({ kind: 'say', text: 'Hello! How can I help you today?' });
    const pending = user('where is my order 1', [
      { type: 'function_call', id: 'f', call_id: 'c', name: 'get_order', arguments: '{}' },
    ]);
    expect(decide(scenarios, ctx(pending, ['get_order']))).toMatchObject({
      text: expect.stringMatching(/waiting for the result of get_order/),
    });
    const answered = user('hello', [
      { type: 'message', role: 'assistant', id: 'a', content: [{ type: 'output_text', text: 'Hi' }] },
    ]);
    expect(decide(scenarios, ctx(answered))).toMatchObject({ text: 'Is there anything else I can help you with?' });
  });

  it('says what response instructions script, word for word', () => {
    expect(
      decide(scenarios, ctx(user('hello'), [], new Map(), 'Greet the caller. Say exactly: "Welcome back, Ana."')),
    ).toEqual({ kind: 'say', text: 'Welcome back, Ana.' });
  });

  it('honours tool_choice: required and a named function', () => {
    const named = decide(scenarios, {
      ...ctx(user('where is my order 1234'), ['get_order', 'search_kb']),
      forceTool: 'search_kb',
    });
    expect(named).toMatchObject({ kind: 'call', name: 'search_kb', arguments: '{}' });
    const required = decide(scenarios, { ...ctx(user('hello'), ['get_time']), forceTool: true as const });
    expect(required).toMatchObject({ kind: 'call', name: 'get_time' });
    const matching = decide(scenarios, {
      ...ctx(user('where is my order 77777'), ['get_order']),
      forceTool: 'get_order',
    });
    expect(matching).toMatchObject({ kind: 'call', name: 'get_order', arguments: '{"orderId":"77777"}' });
  });

  it('acknowledges images', () => {
    const items: ConversationItem[] = [
      { type: 'message', role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,AA==' }] },
    ];
    expect(decide(scenarios, ctx(items))).toMatchObject({ text: expect.stringMatching(/^I received your image\./) });
  });
});
