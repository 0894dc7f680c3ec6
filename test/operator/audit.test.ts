import { describe, expect, it } from 'vitest';
import { createOperatorAudit, operatorRef } from '../../shared/stores/operator-audit';

describe('operator audit', () => {
  it('stores the operator id and logs only its hash', async () => {
    const lines: string[] = [];
    const stored: Record<string, unknown>[] = [];
    const audit = createOperatorAudit(
      {},
      {
        log: (l) => lines.push(l),
        client: { createEntity: async (e: Record<string, unknown>) => void stored.push(e) } as never,
      },
    );
    const at = Date.UTC(2026, 0, 2, 3, 4, 5);
    await audit.record({ operator: 'ada@contoso.com', action: 'sessions.hangup', target: 's-1', outcome: 'ok', at });
    await audit.record({ operator: 'ada@contoso.com', action: 'sessions.list', outcome: 'denied', at: at + 1 });
    expect(lines).toEqual([
      `operator ${operatorRef('ada@contoso.com')} sessions.hangup s-1: ok`,
      `operator ${operatorRef('ada@contoso.com')} sessions.list: denied`,
    ]);
    expect(lines.join('\n')).not.toContain('ada');
    expect(operatorRef('ada@contoso.com')).toMatch(/^op#[0-9a-f]{12}$/);
    expect(stored[0]).toMatchObject({ partitionKey: '2026-01-02', operator: 'ada@contoso.com', target: 's-1' });
    // Newest first within a day: the later entry sorts before the earlier one.
    expect(String(stored[1]!.rowKey) < String(stored[0]!.rowKey)).toBe(true);
  });
});
