import { describe, expect, it } from 'vitest';
import { extractFacts, NO_FACTS, summarizeFacts } from '../../emulators/realtime/memory-facts';

describe('deterministic fact extraction (emulator summaries)', () => {
  it('takes facts the user states about themselves, not what the assistant says', () => {
    const t = [
      'User: Hi, my name is Ada Lovelace and I live in Lisbon.',
      'Assistant: Nice to meet you. My name is Bot and I live in the cloud.',
      'User: I like green tea. My order number is A-1234.',
    ].join('\n');
    expect(summarizeFacts(t)).toBe('- Name: Ada Lovelace\n- Lives in: Lisbon\n- Likes: green tea\n- Order: A-1234');
  });

  it('merges existing memory lines with new ones, newer winning', () => {
    const merged = summarizeFacts(
      'Existing memory:\n- Name: Ada\n- Lives in: Lisbon\n\nNewest conversation:\n- Lives in: Porto\n- Likes: jazz',
    );
    expect(merged).toBe('- Name: Ada\n- Lives in: Porto\n- Likes: jazz');
  });

  it('says so when there is nothing lasting, and does not carry that line into a merge', () => {
    expect(summarizeFacts('User: hello\nAssistant: hi')).toBe(NO_FACTS);
    expect([...extractFacts(`${NO_FACTS}\n- Name: Ada`)]).toEqual([['Name', 'Ada']]);
  });
});
