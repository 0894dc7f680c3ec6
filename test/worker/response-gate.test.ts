import fc from 'fast-check';
import type { ResponseCreateEvent } from 'openai/resources/realtime/realtime';
import { describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../shared/realtime/events';
import {
  ALREADY_ACTIVE,
  GATE_TAG,
  ResponseGate,
  type RequestOutcome,
  type ResponseRequest,
} from '../../worker/response-gate';

const created = (id: string, tag?: string) =>
  ({
    type: 'response.created',
    event_id: 'e',
    response: { id, metadata: tag ? { [GATE_TAG]: tag } : null },
  }) as ServerEvent;
const done = (id: string) => ({ type: 'response.done', event_id: 'e', response: { id } }) as ServerEvent;
const refused = (eventId: string | null, code = ALREADY_ACTIVE) =>
  ({
    type: 'error',
    event_id: 'e',
    error: { type: 'invalid_request_error', code, message: 'no', event_id: eventId },
  }) as ServerEvent;

function setup() {
  const sent: ResponseCreateEvent[] = [];
  const gate = new ResponseGate({ send: (e) => sent.push(e) });
  gate.connected();
  const outcomes: RequestOutcome[] = [];
  const ask = (req: ResponseRequest) => {
    const h = gate.request(req);
    void h.outcome.then((o) => outcomes.push(o));
    return h;
  };
  return { gate, sent, ask, outcomes, lastId: () => sent.at(-1)!.event_id! };
}
const settled = () => new Promise((r) => setImmediate(r));

describe('response gate', () => {
  it('asks for one response at a time: the next waits for the previous response.done', async () => {
    const { gate, sent, ask, outcomes } = setup();
    ask({ kind: 'greeting' });
    ask({ kind: 'tool-result' });
    expect(sent).toHaveLength(1);
    gate.onServerEvent(created('r1'));
    expect(sent).toHaveLength(1);
    gate.onServerEvent(done('r1'));
    expect(sent).toHaveLength(2);
    gate.onServerEvent(created('r2'));
    gate.onServerEvent(done('r2'));
    await settled();
    expect(outcomes).toEqual(['answered', 'answered']);
    expect(new Set(sent.map((e) => e.event_id)).size).toBe(2);
  });

  it("waits for a response it did not ask for (the server's turn detection, the page)", () => {
    const { gate, sent, ask } = setup();
    gate.onServerEvent(created('vad'));
    ask({ kind: 'tool-result' });
    expect(sent).toHaveLength(0);
    gate.onServerEvent(done('vad'));
    expect(sent).toHaveLength(1);
  });

  it('a "one moment" progress response counts as active: the tool result is asked for after it is done', () => {
    const { gate, sent, ask } = setup();
    ask({ kind: 'progress', onlyIfIdle: true, response: { instructions: 'one moment' } });
    expect(sent).toEqual([
      expect.objectContaining({ response: expect.objectContaining({ instructions: 'one moment' }) }),
    ]);
    ask({ kind: 'tool-result' }); // the tool finished before the progress response started
    expect(sent).toHaveLength(1);
    gate.onServerEvent(created('p'));
    gate.onServerEvent(done('p'));
    expect(sent).toHaveLength(2);
    expect(sent[1]!.response).toEqual({ metadata: { [GATE_TAG]: sent[1]!.event_id } });
  });

  it('progress is dropped when anything is in flight or waiting', async () => {
    const { gate, sent, ask, outcomes } = setup();
    gate.onServerEvent(created('vad'));
    ask({ kind: 'progress', onlyIfIdle: true });
    await settled();
    expect(outcomes).toEqual(['dropped']);
    expect(sent).toHaveLength(0);
  });

  it('a refused response.create (a response is active) is queued and asked again after that response is done', async () => {
    const { gate, sent, ask, outcomes, lastId } = setup();
    ask({ kind: 'tool-result' });
    gate.onServerEvent(refused(lastId()));
    expect(sent).toHaveLength(1);
    gate.onServerEvent(done('unseen-one'));
    expect(sent).toHaveLength(2);
    gate.onServerEvent(created('r2'));
    gate.onServerEvent(done('r2'));
    await settled();
    expect(outcomes).toEqual(['answered']);
  });

  it('a response.created that was not ours (a refusal of our event follows it) does not count as our answer', async () => {
    const { gate, sent, ask, outcomes, lastId } = setup();
    ask({ kind: 'tool-result' });
    gate.onServerEvent(created('vad'));
    gate.onServerEvent(refused(lastId()));
    gate.onServerEvent(done('vad'));
    expect(sent).toHaveLength(2);
    await settled();
    expect(outcomes).toEqual([]);
    gate.onServerEvent(created('r2'));
    gate.onServerEvent(done('r2'));
    await settled();
    expect(outcomes).toEqual(['answered']);
  });

  it('a service that echoes metadata: only the response tagged with our event id is taken as ours', async () => {
    const { gate, sent, ask, outcomes, lastId } = setup();
    ask({ kind: 'greeting' });
    gate.onServerEvent(created('r1', lastId()));
    gate.onServerEvent(done('r1'));
    ask({ kind: 'tool-result' });
    const mine = lastId();
    gate.onServerEvent(created('vad')); // untagged: the server's own
    gate.onServerEvent(done('vad'));
    await settled();
    expect(outcomes).toEqual(['answered']);
    expect(sent).toHaveLength(2);
    gate.onServerEvent(created('r2', mine));
    gate.onServerEvent(done('r2'));
    await settled();
    expect(outcomes).toEqual(['answered', 'answered']);
  });

  it('a refusal that comes after the response taken for ours was done still has the request asked again', () => {
    const { gate, sent, ask, lastId } = setup();
    ask({ kind: 'tool-result' });
    const mine = lastId();
    gate.onServerEvent(created('vad1'));
    gate.onServerEvent(done('vad1'));
    gate.onServerEvent(created('vad2'));
    gate.onServerEvent(refused(mine));
    expect(sent).toHaveLength(1);
    gate.onServerEvent(done('vad2'));
    expect(sent).toHaveLength(2);
  });

  it('a refusal without an event id is taken as a refusal of what the gate is waiting on', () => {
    const { gate, sent, ask } = setup();
    ask({ kind: 'tool-result' });
    gate.onServerEvent(refused(null));
    gate.onServerEvent(done('x'));
    expect(sent).toHaveLength(2);
  });

  it('another error for our event fails that request and frees the slot; errors for other events change nothing', async () => {
    const { gate, sent, ask, outcomes, lastId } = setup();
    ask({ kind: 'revert', response: { instructions: 'x' } });
    ask({ kind: 'tool-result' });
    gate.onServerEvent(refused('someone-else'));
    expect(sent).toHaveLength(1);
    gate.onServerEvent(refused(lastId(), 'invalid_value'));
    await settled();
    expect(outcomes).toEqual(['failed']);
    expect(sent).toHaveLength(2);
  });

  it('tool results waiting together get one response', async () => {
    const { gate, sent, ask, outcomes } = setup();
    gate.onServerEvent(created('vad'));
    ask({ kind: 'tool-result', coalesce: true });
    ask({ kind: 'tool-result', coalesce: true });
    gate.onServerEvent(done('vad'));
    gate.onServerEvent(created('r'));
    gate.onServerEvent(done('r'));
    await settled();
    expect(sent).toHaveLength(1);
    expect(outcomes).toEqual(['answered', 'answered']);
  });

  it('a dropped connection: nothing is sent while down, and what was asked but not started is asked again', () => {
    const { gate, sent, ask } = setup();
    ask({ kind: 'tool-result' });
    gate.disconnected();
    ask({ kind: 'greeting' });
    expect(sent).toHaveLength(1);
    gate.connected();
    expect(sent).toHaveLength(2);
    expect(gate.state).toMatchObject({ awaiting: 'tool-result', queued: ['greeting'] });
  });

  it('close settles everything as closed; a cancelled request is never sent', async () => {
    const { gate, sent, ask, outcomes } = setup();
    ask({ kind: 'greeting' });
    const h = ask({ kind: 'tool-result' });
    expect(h.cancel()).toBe(true);
    ask({ kind: 'revert' });
    gate.close();
    ask({ kind: 'late' });
    await settled();
    expect(outcomes.sort()).toEqual(['closed', 'closed', 'closed', 'dropped']);
    expect(sent).toHaveLength(1);
  });
});

/**
 * A service that enforces one active response as the real one does, with events in flight both ways, the
 * server's own responses (turn detection), and dropped connections that lose what is in flight.
 */
class Service {
  constructor(readonly echoes: boolean) {}
  active: string | undefined;
  toClient: ServerEvent[] = [];
  fromClient: ResponseCreateEvent[] = [];
  /** Event ids of our response.creates that started a response. */
  startedBy: string[] = [];
  refusals = 0;
  private n = 0;
  start(eventId?: string) {
    this.active = `r${++this.n}`;
    if (eventId) this.startedBy.push(eventId);
    this.toClient.push(created(this.active, this.echoes ? eventId : undefined));
  }
  receiveOne() {
    const e = this.fromClient.shift();
    if (!e) return;
    if (this.active) {
      this.refusals++;
      this.toClient.push(refused(e.event_id ?? null));
    } else this.start(e.event_id);
  }
  finish() {
    if (!this.active) return;
    this.toClient.push(done(this.active));
    this.active = undefined;
  }
}

type Step =
  | { t: 'request'; kind: 'tool-result' | 'greeting' | 'progress' }
  | { t: 'toServer' }
  | { t: 'toClient' }
  | { t: 'finish' }
  | { t: 'vad' }
  | { t: 'drop' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constant('request' as const), kind: fc.constantFrom('tool-result', 'greeting', 'progress') }),
  fc.constant({ t: 'toServer' as const }),
  fc.constant({ t: 'toClient' as const }),
  fc.constant({ t: 'finish' as const }),
  fc.constant({ t: 'vad' as const }),
  fc.constant({ t: 'drop' as const }),
);

describe('response gate: interleavings against a strict service', () => {
  it.each([
    ['echoes metadata (known)', true],
    ['does not echo metadata (the gate learns)', false],
  ])(
    'a service that %s: no request lost, each answered once (absent drops), sent only when nothing is active',
    async (_, echoes) => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
          const svc = new Service(echoes);
          let online = true;
          let busyAtSend = false;
          const gate = new ResponseGate({
            echoesMetadata: echoes || undefined,
            send: (e) => {
              if (!online) throw new Error('sent while offline');
              if (gate.state.active > 0) busyAtSend = true;
              svc.fromClient.push(e);
            },
          });
          gate.connected();
          const requests: { kind: string; outcome?: RequestOutcome }[] = [];
          const deliver = () => {
            const e = svc.toClient.shift();
            if (e) gate.onServerEvent(e);
          };
          for (const s of steps) {
            if (s.t === 'request') {
              const r: { kind: string; outcome?: RequestOutcome } = { kind: s.kind };
              requests.push(r);
              const h = gate.request({ kind: s.kind, onlyIfIdle: s.kind === 'progress' });
              void h.outcome.then((o) => (r.outcome = o));
            } else if (s.t === 'toServer') svc.receiveOne();
            else if (s.t === 'toClient') deliver();
            else if (s.t === 'finish') svc.finish();
            else if (s.t === 'vad' && !svc.active) svc.start();
            else if (s.t === 'drop') {
              // What is in flight is lost; the service keeps its state (a response keeps running).
              svc.toClient = [];
              svc.fromClient = [];
              online = false;
              gate.disconnected();
              online = true;
              gate.connected();
            }
          }
          // Quiesce: deliver everything, let responses finish.
          for (let i = 0; i < 500 && (svc.toClient.length || svc.fromClient.length || svc.active); i++) {
            while (svc.fromClient.length) svc.receiveOne();
            while (svc.toClient.length) deliver();
            svc.finish();
            while (svc.toClient.length) deliver();
          }
          await settled();
          expect(busyAtSend).toBe(false);
          expect(gate.state).toMatchObject({ active: 0, queued: [] });
          expect(gate.state.awaiting).toBeUndefined();
          for (const r of requests) {
            if (r.kind === 'progress') expect(['answered', 'dropped']).toContain(r.outcome);
            else expect(r.outcome).toBe('answered');
          }
          // Never lost: every request but progress had a response started by its own response.create. (With a
          // service not known to echo metadata, a drop can lose one: see the gate's comment.)
          const startedReqs = new Set(svc.startedBy.map((id) => id.split('_')[1]));
          if (echoes || !steps.some((s) => s.t === 'drop'))
            requests.forEach((r, i) => r.kind !== 'progress' && expect(startedReqs).toContain(String(i + 1)));
          // Each request is answered by one response; only a dropped connection may make it ask twice.
          if (!steps.some((s) => s.t === 'drop')) {
            const perRequest = new Map<string, number>();
            for (const id of svc.startedBy) {
              const req = id.split('_')[1]!;
              perRequest.set(req, (perRequest.get(req) ?? 0) + 1);
            }
            for (const n of perRequest.values()) expect(n).toBe(1);
            // Outcomes are exact only when the service's responses can be told apart.
            if (echoes) expect(svc.startedBy.length).toBe(requests.filter((r) => r.outcome === 'answered').length);
          }
        }),
        { numRuns: 300 },
      );
    },
  );
});
