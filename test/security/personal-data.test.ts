import { odata } from '@azure/data-tables';
import { WebPubSubClient } from '@azure/web-pubsub-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { purgeExpiredHistory } from '../../shared/memory/forget';
import { createHistoryStore } from '../../shared/memory/history-store';
import { tableClient, TABLES } from '../../shared/storage/tables';
import { createSessionStore } from '../../shared/stores/sessions';
import { createToolRunCleanup } from '../../shared/stores/tool-run-cleanup';
import { toolRunKeys } from '../../shared/stores/tool-runs';
import { waitUntil } from '../lifecycle/helpers';
import { webUser } from './attackers';

/**
 * Personal data: what a tool returned (an order's items, a tracking number) is for the model, not the page, and
 * tool runs do not outlive the history they belong to.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ ports: 'free', env: { WORKER_REPLICAS: '1' } });
}, 120_000);
afterAll(async () => stack?.stop());

const storage = () => ({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING });
const headers = (userId: string) => ({ 'x-user-id': userId });

/** The page's live updates: GET /api/negotiate as the session's owner, then Web PubSub. */
async function pushEvents(userId: string, sessionId: string) {
  const events: Record<string, unknown>[] = [];
  const client = new WebPubSubClient({
    getClientAccessUrl: async () => {
      const res = await fetch(`${stack.url('functions')}/negotiate?sessionId=${sessionId}`, {
        headers: headers(userId),
      });
      return ((await res.json()) as { url: string }).url;
    },
  });
  client.on('group-message', (e) => events.push(e.message.data as Record<string, unknown>));
  await client.start();
  return { events, stop: () => client.stop() };
}

async function toolRunsOf(sessionId: string) {
  const rows: unknown[] = [];
  for await (const r of tableClient(storage(), TABLES.toolruns).listEntities({
    queryOptions: {
      filter: odata`PartitionKey eq ${toolRunKeys(sessionId).partitionKey} and sessionId eq ${sessionId}`,
    },
  }))
    rows.push(r);
  return rows;
}

describe('personal data stays where it is needed', () => {
  it('a page reads raw tool output from its push channel', { timeout: 60_000 }, async () => {
    const maya = await webUser(stack, 'maya');
    const push = await pushEvents('maya', maya.sessionId);
    const t = await maya.turn('where is my order 1234');
    expect(JSON.parse(t.outputs[0]!)).toMatchObject({ trackingNumber: '1Z999AA10123456784' });
    const finished = await waitUntil('tool.finished on the page', async () =>
      push.events.find((e) => e.type === 'tool.finished'),
    );
    expect(finished).not.toHaveProperty('output');
    expect(finished.summary).toMatch(/^get_order returned orderId, customerId/);
    const everything = JSON.stringify(push.events);
    expect(everything).not.toContain('1Z999AA10123456784');
    expect(everything).not.toContain('Ridgeline');
    push.stop();
    await maya.hangUp();
  });

  it('a user who asked to be forgotten still has their tool runs stored', { timeout: 60_000 }, async () => {
    const maya = await webUser(stack, 'maya');
    const t = await maya.turn('please open a ticket for order 1234, the tent arrived torn');
    expect(t.outputs[0]).toMatch(/T-\d{6}/);
    await maya.hangUp();
    await waitUntil('the ticket run stored', async () => (await toolRunsOf(maya.sessionId)).length > 0);

    const res = await fetch(`${stack.url('functions')}/users/me/history`, {
      method: 'DELETE',
      headers: headers('maya'),
    });
    expect(res.status).toBe(200);
    expect(await toolRunsOf(maya.sessionId)).toEqual([]);
  });

  it('tool runs outlive the history retention', { timeout: 60_000 }, async () => {
    const jonas = await webUser(stack, 'jonas');
    await jonas.turn('please open a ticket for order 1001, the daypack strap broke');
    await jonas.hangUp();
    await waitUntil('the ticket run stored', async () => (await toolRunsOf(jonas.sessionId)).length > 0);
    // The daily retention run, as it will see these rows once HISTORY_RETENTION_DAYS have passed.
    const deps = {
      history: createHistoryStore(storage()),
      sessions: createSessionStore(storage()),
      toolRunCleanup: createToolRunCleanup(storage()),
    };
    await purgeExpiredHistory(deps, 30, Date.now() + 31 * 86_400_000);
    expect(await toolRunsOf(jonas.sessionId)).toEqual([]);
  });
});
