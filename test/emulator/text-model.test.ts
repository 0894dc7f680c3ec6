import { describe, expect, it } from 'vitest';
import { completeChat, extractiveSummary, registerTextRule } from '../../emulators/realtime/text-model';

describe('text model', () => {
  it('summarizes what the user said, from a role-prefixed transcript', () => {
    const s = extractiveSummary(
      'user: Hi.\nassistant: Hello, how can I help?\nuser: My order 1234 arrived damaged and I want a refund.\nuser: Thanks',
    );
    expect(s).toBe('The user said: Hi. My order 1234 arrived damaged and I want a refund. Thanks.');
  });

  it('answers with registered rules chosen by a marker in the system prompt', () => {
    const remove = registerTextRule({
      id: 'judge',
      marker: '[judge]',
      respond: () => ({ score: 4, reason: 'helpful' }),
    });
    try {
      const res = completeChat({
        model: 'gpt-4.1-mini',
        messages: [
          { role: 'system', content: 'You are a grader. [judge]' },
          { role: 'user', content: 'rate this' },
        ],
      });
      expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({ score: 4, reason: 'helpful' });
      expect(res.usage?.total_tokens).toBeGreaterThan(0);
    } finally {
      remove();
    }
    const plain = completeChat({
      model: 'm',
      messages: [
        { role: 'system', content: 'You are a grader. [judge]' },
        { role: 'user', content: 'Where is my parcel?' },
      ],
    });
    expect(plain.choices[0]!.message.content).toBe('The user said: Where is my parcel?');
  });

  it('fills a json_schema response format deterministically', () => {
    const res = completeChat({
      model: 'm',
      messages: [{ role: 'user', content: 'I need to change my address.' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 's',
          schema: {
            type: 'object',
            properties: {
              summary: { type: 'string' },
              topics: { type: 'array', items: { type: 'string' } },
              urgent: { type: 'boolean' },
            },
          },
        },
      },
    });
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({
      summary: 'The user said: I need to change my address.',
      topics: ['The user said: I need to change my address.'],
      urgent: false,
    });
  });
});
