import { describe, expect, it } from 'vitest';
import { addResponseUsage, createUsageRecorder, emptyUsage, usagePatch } from '../../shared/memory/usage';

describe('usage from response.done', () => {
  it('sums token counts, treating missing fields as zero', () => {
    const u = emptyUsage();
    addResponseUsage(u, {
      usage: {
        input_tokens: 100,
        output_tokens: 40,
        input_token_details: { audio_tokens: 80, cached_tokens: 10 },
        output_token_details: { audio_tokens: 30 },
      },
    });
    addResponseUsage(u, { usage: { input_tokens: 5 } });
    addResponseUsage(u, undefined);
    expect(u).toEqual({
      inputTokens: 105,
      outputTokens: 40,
      inputAudioTokens: 80,
      outputAudioTokens: 30,
      cachedTokens: 10,
      responses: 3,
    });
    expect(usagePatch(u)).toEqual({ inputTokens: 105, outputTokens: 40 });
  });
});

describe('usage recorder', () => {
  it('writes one merge per session when the worker lets it go, and nothing for a session without responses', async () => {
    const writes: [string, unknown][] = [];
    const rec = createUsageRecorder({ update: async (id, patch) => void writes.push([id, patch]) });
    rec.add('s1', { usage: { input_tokens: 10, output_tokens: 4 } });
    rec.add('s1', { usage: { input_tokens: 7, output_tokens: 3 } });
    rec.add('s2', undefined);
    expect(rec.peek('s1')).toMatchObject({ inputTokens: 17, outputTokens: 7, responses: 2 });
    await rec.end('s1');
    await rec.end('s1');
    await rec.end('nobody');
    expect(writes).toEqual([['s1', { inputTokens: 17, outputTokens: 7 }]]);
    await rec.end('s2'); // a response without usage still counts as a response
    expect(writes.at(-1)).toEqual(['s2', { inputTokens: 0, outputTokens: 0 }]);
  });
});
