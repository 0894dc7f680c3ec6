import { z } from 'zod';
import type { Connection, DataType, Hubs } from './hub';
import { hasRole } from './tokens';

export const JSON_SUBPROTOCOL = 'json.webpubsub.azure.v1';
/** Same messages, plus sequence ids, sequenceAck and connection recovery. */
export const RELIABLE_SUBPROTOCOL = 'json.reliable.webpubsub.azure.v1';

const ackId = z.number().int().nonnegative().optional();
const group = z.string().min(1).max(1024);
const dataType = z.enum(['json', 'text', 'binary']);

const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('joinGroup'), group, ackId }),
  z.object({ type: z.literal('leaveGroup'), group, ackId }),
  z.object({
    type: z.literal('sendToGroup'),
    group,
    ackId,
    noEcho: z.boolean().optional(),
    dataType,
    data: z.unknown(),
  }),
  z.object({ type: z.literal('event'), event: z.string().min(1), ackId, dataType, data: z.unknown() }),
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('sequenceAck'), sequenceId: z.number() }),
]);

type AckError = { name: 'Forbidden' | 'Duplicate' | 'InvalidMessage' | 'InternalServerError'; message: string };

/**
 * Handles one frame from a json.webpubsub.azure.v1 client. Group permissions come from the token's roles:
 * `webpubsub.joinLeaveGroup[.<group>]` and `webpubsub.sendToGroup[.<group>]`.
 */
export function handleClientFrame(hubs: Hubs, c: Connection, raw: string, log: (line: string) => void) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    log(`webpubsub: connection ${c.id} sent a frame that is not JSON; ignored`);
    return;
  }
  const result = clientMessage.safeParse(parsed);
  if (!result.success) {
    const id = (parsed as { ackId?: unknown })?.ackId;
    if (typeof id === 'number')
      ack(c, id, { name: 'InvalidMessage', message: result.error.issues[0]?.message ?? 'invalid message' });
    log(`webpubsub: connection ${c.id} sent an invalid message; ignored`);
    return;
  }
  const msg = result.data;
  if ('ackId' in msg && msg.ackId !== undefined) {
    if (c.ackIds.has(msg.ackId))
      return ack(c, msg.ackId, { name: 'Duplicate', message: `ackId ${msg.ackId} was already used` });
    c.ackIds.add(msg.ackId);
  }
  switch (msg.type) {
    case 'ping':
      return send(c, { type: 'pong' });
    case 'sequenceAck':
      return hubs.acked(c, msg.sequenceId);
    case 'joinGroup':
    case 'leaveGroup': {
      if (!hasRole(c.roles, 'webpubsub.joinLeaveGroup', msg.group)) {
        return ack(c, msg.ackId, {
          name: 'Forbidden',
          message: `the connection has no permission to join or leave group "${msg.group}"`,
        });
      }
      if (msg.type === 'joinGroup') hubs.join(c, msg.group);
      else hubs.leave(c, msg.group);
      return ack(c, msg.ackId);
    }
    case 'sendToGroup': {
      if (!hasRole(c.roles, 'webpubsub.sendToGroup', msg.group)) {
        return ack(c, msg.ackId, {
          name: 'Forbidden',
          message: `the connection has no permission to send to group "${msg.group}"`,
        });
      }
      const bytes = encode(msg.dataType, msg.data);
      if (!bytes)
        return ack(c, msg.ackId, { name: 'InvalidMessage', message: `data does not match dataType ${msg.dataType}` });
      hubs.deliver(
        hubs.inGroup(c.hub, msg.group),
        { dataType: msg.dataType, bytes },
        { from: 'group', group: msg.group, ...(c.userId ? { fromUserId: c.userId } : {}) },
        msg.noEcho ? new Set([c.id]) : undefined,
      );
      return ack(c, msg.ackId);
    }
    case 'event':
      // No upstream event handlers exist locally: the event is accepted and dropped.
      return ack(c, msg.ackId);
  }
}

function encode(dataType: DataType, data: unknown): Buffer | undefined {
  if (dataType === 'json') return data === undefined ? undefined : Buffer.from(JSON.stringify(data));
  if (typeof data !== 'string') return undefined;
  return dataType === 'text' ? Buffer.from(data, 'utf8') : Buffer.from(data, 'base64');
}

function ack(c: Connection, id: number | undefined, error?: AckError) {
  if (id === undefined) return;
  send(c, error ? { type: 'ack', ackId: id, success: false, error } : { type: 'ack', ackId: id, success: true });
}

function send(c: Connection, msg: unknown) {
  if (c.socket.readyState === c.socket.OPEN) c.socket.send(JSON.stringify(msg));
}
