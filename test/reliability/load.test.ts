import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { runLoad } from './load-driver';

/** CI-sized load (the 1,000-session run is `npm run bench:load`). */
const SESSIONS = Number(process.env.LOAD_TEST_SESSIONS ?? 100);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ ports: 'free', log: process.env.STACK_LOG ? (l) => console.log(l) : undefined });
});
afterAll(async () => stack?.stop());

describe(`load: ${SESSIONS} phone sessions with a tool call each through the whole local stack`, () => {
  it(
    'has 0 errors, 0 lost or duplicated transcript items, every session ended and every tool output delivered',
    { timeout: 300_000 },
    async () => {
      const r = await runLoad(stack, { sessions: SESSIONS, concurrency: 25, stepTimeoutMs: 30_000 });
      console.log(
        `load: ${SESSIONS} sessions in ${r.wallMs} ms; ${r.historyRows} history rows for ${r.expectedItems} items`,
      );
      expect(r.errors).toEqual([]);
      expect(r.sessions).toHaveLength(SESSIONS);
      expect(r.notEnded).toEqual([]);
      expect(r.lost).toEqual([]);
      expect(r.duplicates).toEqual([]);
      // One get_order per session reached the model, once, and no run is left undelivered.
      expect(r.toolOutputs).toBe(SESSIONS);
      expect(r.undeliveredToolRuns).toBe(0);
      expect(r.historyRows).toBe(r.expectedItems);
    },
  );
});
