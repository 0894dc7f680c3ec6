import { startStack, type Stack } from '../../dev/stack';
import { createTableLifecycleStore } from '../../shared/lifecycle/session-partition';
import type { LifecycleRecord } from '../../shared/lifecycle/reducer';
import { createHistoryStore } from '../../shared/memory/history-store';
import { createTableToolRunStore } from '../../shared/stores/tool-runs';
import { RawClient, wsUrl } from '../emulator/helpers';

/**
 * The whole local stack with two worker replicas and 1 s heartbeats. `timeoutSeconds` is how long a silent
 * worker is tolerated: short for the kill tests (the call must move within 5 s), generous elsewhere so a
 * loaded machine cannot trigger a re-attach nobody asked for.
 */
export async function startLifecycleStack(timeoutSeconds = 8): Promise<Stack> {
  return startStack({
    ports: 'free',
    env: { HEARTBEAT_INTERVAL_SECONDS: '1', HEARTBEAT_TIMEOUT_SECONDS: String(timeoutSeconds), WORKER_REPLICAS: '2' },
    log: process.env.STACK_LOG ? (l) => console.log(l) : undefined,
  });
}

export function storesOf(stack: Stack) {
  const storage = { STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING };
  return {
    lifecycle: createTableLifecycleStore(storage),
    history: createHistoryStore(storage),
    toolRuns: createTableToolRunStore(storage),
  };
}

export async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Polls the lifecycle row and remembers every state it saw (the path a session took). */
export function stateWatcher(stack: Stack, sessionId: string) {
  const { lifecycle } = storesOf(stack);
  const seen: string[] = [];
  let current: LifecycleRecord | undefined;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const v = await lifecycle.load(sessionId).catch(() => undefined);
      if (v && v.record.state !== seen[seen.length - 1]) seen.push(v.record.state);
      if (v) current = v.record;
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    seen,
    get current() {
      return current;
    },
    until: (state: string, timeoutMs = 15_000) =>
      waitUntil(
        `state ${state} of ${sessionId} (saw ${seen.join(' → ')})`,
        async () => current?.state === state && current,
        timeoutMs,
        25,
      ),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** A second sideband client on the call, standing in for the caller: types a message and asks for a reply. */
export async function callerClient(stack: Stack, callId: string): Promise<RawClient> {
  return RawClient.open(wsUrl(stack.url('realtime emulator'), `call_id=${callId}`), {
    'api-key': stack.env.REALTIME_API_KEY ?? 'emulator-dev-key',
  });
}

export function say(client: RawClient, text: string) {
  client.send({
    type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  });
  askWhenFree(client);
}

let asks = 0;
/**
 * `response.create` as a caller's turn: on a phone call the agent greets first, and the service refuses a
 * second response while one is active — the ask is repeated once that response is done, as a caller would
 * speak again after the agent stopped.
 */
export function askWhenFree(client: RawClient): void {
  const id = `ask_${++asks}`;
  let refused = false;
  // A response that ends while the refusal is on its way (a loaded machine) gets no later response.done to wait
  // for: ask again at once then; if one is still active the service refuses again and its done comes later.
  let doneSinceAsk = false;
  const onMessage = (data: unknown) => {
    const e = JSON.parse(String(data)) as {
      type: string;
      error?: { code?: string; event_id?: string };
      response?: { metadata?: Record<string, string> | null };
    };
    if (e.type === 'error' && e.error?.event_id === id) {
      if (e.error.code !== 'conversation_already_has_active_response') client.ws.off('message', onMessage);
      else if (doneSinceAsk) {
        client.ws.off('message', onMessage);
        askWhenFree(client);
      } else refused = true;
    } else if (e.type === 'response.done' && !refused) {
      doneSinceAsk = true;
    } else if (e.type === 'response.done' && refused) {
      client.ws.off('message', onMessage);
      askWhenFree(client);
    } else if (e.type === 'response.created' && e.response?.metadata?.ask === id) {
      client.ws.off('message', onMessage); // ours (the service echoes a response's metadata), not the agent's
    }
  };
  client.ws.on('message', onMessage);
  client.send({ type: 'response.create', event_id: id, response: { metadata: { ask: id } } });
}

export async function emulatorSession(stack: Stack, callId: string) {
  const s = (await fetch(`${stack.url('realtime emulator')}/_emulator/sessions`).then((r) => r.json())) as {
    sessions: { callId?: string; connections: number; transcript: { role: string; type: string; text: string }[] }[];
  };
  return s.sessions.find((x) => x.callId === callId);
}

export async function hangupAsCaller(stack: Stack, callId: string) {
  const res = await fetch(`${stack.url('realtime emulator')}/openai/v1/realtime/calls/${callId}/hangup`, {
    method: 'POST',
    headers: { 'api-key': stack.env.REALTIME_API_KEY ?? 'emulator-dev-key' },
  });
  if (!res.ok) throw new Error(`hangup answered ${res.status}`);
}

export async function incomingSipCall(stack: Stack, from: string, to = '+18005550100'): Promise<string> {
  const res = await fetch(`${stack.url('realtime emulator')}/_emulator/sip/incoming`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, to }),
  });
  if (res.status !== 201) throw new Error(`sip incoming answered ${res.status}`);
  return ((await res.json()) as { callId: string }).callId;
}
