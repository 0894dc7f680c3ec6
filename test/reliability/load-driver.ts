import { askWhenFree } from '../lifecycle/helpers';
import { azuriteConnectionString } from '../../dev/azurite';
import type { Stack } from '../../dev/stack';
import { createTableLifecycleStore } from '../../shared/lifecycle/session-partition';
import { createHistoryStore } from '../../shared/memory/history-store';
import { createTableToolRunStore } from '../../shared/stores/tool-runs';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { RawClient, wsUrl } from '../emulator/helpers';

/** What the model says after get_order refused an unverified caller. */
const ANSWER = 'not verified';

/**
 * Many phone sessions with a tool call each, through the whole local stack: the emulator rings
 * (signed webhook → Function app accepts → lifecycle attaches a worker → sideband), a caller client on the
 * call asks about an order (the worker runs get_order over MCP), the caller hangs up. Afterwards every
 * session must have reached `ended`, and its stored history must hold exactly the items the emulator's
 * conversation has (user and assistant messages, tool outputs) — none lost, none twice.
 */
export interface LoadOptions {
  sessions: number;
  /** Sessions in flight at once. */
  concurrency: number;
  /** Distinguishes runs sharing one stack (phone numbers and so history partitions). */
  runId?: string;
  /** Per step. */
  stepTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface SessionResult {
  callId: string;
  sessionId: string;
  partition: string;
  error?: string;
  /** What the emulator's conversation had when the answer came: [role, text] of each storable item. */
  expected?: { role: string; text: string }[];
  ms?: number;
}

export interface LoadResult {
  sessions: SessionResult[];
  errors: { callId: string; error: string; path?: string }[];
  /** Items the emulator produced that are missing from the stored history. */
  lost: { sessionId: string; role: string; text: string; path?: string; workers?: string }[];
  duplicates: { sessionId: string; itemId: string }[];
  notEnded: { sessionId: string; state?: string }[];
  undeliveredToolRuns: number;
  toolOutputs: number;
  historyRows: number;
  expectedItems: number;
  wallMs: number;
  sessionMs: number[];
}

type EmuSession = { callId?: string; connections: number; transcript: { role: string; type: string; text: string }[] };

/** One GET of the emulator's sessions serves every waiting session (polling per session would be the load). */
function emulatorPoller(stack: Stack) {
  let latest = new Map<string, EmuSession>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const s = (await fetch(`${stack.url('realtime emulator')}/_emulator/sessions`).then((r) => r.json())) as {
          sessions: EmuSession[];
        };
        latest = new Map(s.sessions.filter((x) => x.callId).map((x) => [x.callId!, x]));
      } catch {
        /* next round */
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    get: (callId: string) => latest.get(callId),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The items of the emulator's conversation the worker stores: messages (user/assistant) and tool outputs. */
function storable(s: EmuSession) {
  return s.transcript
    .filter(
      (t) =>
        (t.type === 'message' && (t.role === 'user' || t.role === 'assistant')) || t.type === 'function_call_output',
    )
    .map((t) => ({ role: t.type === 'function_call_output' ? 'tool' : t.role, text: t.text.trim() }));
}

export async function runLoad(stack: Stack, opts: LoadOptions): Promise<LoadResult> {
  const step = opts.stepTimeoutMs ?? 20_000;
  const emu = emulatorPoller(stack);
  const key = stack.env.REALTIME_API_KEY ?? 'emulator-dev-key';
  const run = opts.runId ?? Math.random().toString().slice(2, 6);
  const results: SessionResult[] = [];
  const t0 = Date.now();
  const direct = {
    STORAGE_CONNECTION_STRING: stack.storage
      ? azuriteConnectionString(stack.storage.azurite.port)
      : stack.env.STORAGE_CONNECTION_STRING!,
  };
  const lifecycle = createTableLifecycleStore(direct);

  async function one(i: number): Promise<SessionResult> {
    const from = `+1555${run}${String(i).padStart(5, '0')}`;
    const started = Date.now();
    const res = await fetch(`${stack.url('realtime emulator')}/_emulator/sip/incoming`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from, to: '+18005550100' }),
    });
    if (res.status !== 201)
      return { callId: '', sessionId: '', partition: '', error: `sip incoming answered ${res.status}` };
    const { callId } = (await res.json()) as { callId: string };
    const r: SessionResult = { callId, sessionId: sessionIdForCall(callId), partition: `sip:${from}` };
    let caller: RawClient | undefined;
    try {
      // The caller speaks once the lifecycle says a worker holds the call (what the page waits for too); items
      // from before any worker is attached cannot be seen by one.
      await until(
        `live ${callId}`,
        async () => (await lifecycle.load(r.sessionId).catch(() => undefined))?.record.state === 'live',
        step,
        100,
      );
      await until(`sideband of ${callId}`, () => (emu.get(callId)?.connections ?? 0) >= 1, step);
      caller = await RawClient.open(wsUrl(stack.url('realtime emulator'), `call_id=${callId}`), { 'api-key': key });
      caller.send({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
      });
      askWhenFree(caller);
      // Load callers are strangers to the shop: get_order runs over MCP and refuses (orders have owners, a phone
      // caller must verify first), and the model's answer says so.
      await caller.waitFor(
        'response.output_item.done',
        (e) => e.item.type === 'message' && JSON.stringify(e.item).includes(ANSWER),
        { timeoutMs: step },
      );
      const s = await until(
        `emulator transcript of ${callId}`,
        () => {
          const x = emu.get(callId);
          return (
            x &&
            x.transcript.some((t) => t.type === 'message' && t.role === 'assistant' && t.text.includes(ANSWER)) &&
            x
          );
        },
        step,
      );
      r.expected = storable(s);
      const hang = await fetch(`${stack.url('realtime emulator')}/openai/v1/realtime/calls/${callId}/hangup`, {
        method: 'POST',
        headers: { 'api-key': key },
      });
      if (!hang.ok) throw new Error(`hangup answered ${hang.status}`);
      r.ms = Date.now() - started;
    } catch (err) {
      r.error = (err as Error).message;
    } finally {
      caller?.close();
    }
    return r;
  }

  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(opts.concurrency, opts.sessions) }, async () => {
      while (next < opts.sessions) {
        const i = next++;
        results.push(
          await one(i).catch((err) => ({ callId: '', sessionId: '', partition: '', error: (err as Error).message })),
        );
        if (results.length % 100 === 0) opts.log?.(`${results.length}/${opts.sessions} sessions done`);
      }
    }),
  );
  await emu.stop();

  // Settle: every session ended, every transcript row written (the worker batches every 250 ms).
  const history = createHistoryStore(direct);
  const toolRuns = createTableToolRunStore(direct);
  const lost: LoadResult['lost'] = [];
  const duplicates: LoadResult['duplicates'] = [];
  const notEnded: LoadResult['notEnded'] = [];
  let undeliveredToolRuns = 0;
  let historyRows = 0;
  let expectedItems = 0;
  let toolOutputs = 0;
  const ok = results.filter((r) => !r.error);
  const settleDeadline = Date.now() + 30_000;
  for (let i = 0; i < ok.length; i += 20) {
    await Promise.all(
      ok.slice(i, i + 20).map(async (r) => {
        const expected = r.expected ?? [];
        expectedItems += expected.length;
        toolOutputs += expected.filter((e) => e.role === 'tool').length;
        let rows = await history.forSession(r.partition, r.sessionId);
        let record = (await lifecycle.load(r.sessionId))?.record;
        while ((rows.length < expected.length || record?.state !== 'ended') && Date.now() < settleDeadline) {
          await new Promise((w) => setTimeout(w, 250));
          rows = await history.forSession(r.partition, r.sessionId);
          record = (await lifecycle.load(r.sessionId))?.record;
        }
        const state = record?.state;
        historyRows += rows.length;
        if (state !== 'ended') notEnded.push({ sessionId: r.sessionId, state });
        const seen = new Set<string>();
        for (const row of rows) {
          if (seen.has(row.itemId)) duplicates.push({ sessionId: r.sessionId, itemId: row.itemId });
          seen.add(row.itemId);
        }
        const texts = rows.map((x) => `${x.role}\u0000${x.text.trim()}`);
        for (const e of expected) {
          const at = texts.indexOf(`${e.role}\u0000${e.text}`);
          if (at < 0)
            lost.push({
              sessionId: r.sessionId,
              ...e,
              path: record?.path?.join(' → '),
              workers: [...(record?.lostWorkers ?? []), record?.workerId].join(', '),
            });
          else texts.splice(at, 1);
        }
        // A delivered mark lingers until a later write of its partition takes it along (at most its linger).
        let undelivered = (await toolRuns.undelivered(r.sessionId)).length;
        while (undelivered > 0 && Date.now() < settleDeadline) {
          await new Promise((w) => setTimeout(w, 100));
          undelivered = (await toolRuns.undelivered(r.sessionId)).length;
        }
        undeliveredToolRuns += undelivered;
      }),
    );
  }

  const errors: LoadResult['errors'] = [];
  for (const r of results.filter((x) => x.error)) {
    // The lifecycle path tells an overload re-attach from a hang.
    const record = r.sessionId ? (await lifecycle.load(r.sessionId).catch(() => undefined))?.record : undefined;
    errors.push({ callId: r.callId, error: r.error!.slice(0, 300), path: record?.path?.join(' → ') });
  }
  return {
    sessions: results,
    errors,
    lost,
    duplicates,
    notEnded,
    undeliveredToolRuns,
    toolOutputs,
    historyRows,
    expectedItems,
    wallMs: Date.now() - t0,
    sessionMs: ok.map((r) => r.ms ?? 0),
  };
}
