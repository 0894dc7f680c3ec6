import { createHash } from 'node:crypto';

interface SipHeader {
  name: string;
  value: string;
}

export const sipHeader = (headers: readonly SipHeader[], name: string) =>
  headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;

/**
 * The telephone number in a SIP From/To value: `"Ada" <sip:+14155550123@sip.example>;tag=1` → `+14155550123`.
 * Undefined when the user part holds no digits (anonymous callers).
 */
export function sipNumber(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const uri = /<([^>]*)>/.exec(value)?.[1] ?? value;
  const user = uri
    .trim()
    .replace(/^(sips?|tel):/i, '')
    .split('@')[0]!
    .split(';')[0]!;
  const digits = user.replace(/[^0-9]/g, '');
  if (digits.length < 3 || digits.length > 20) return undefined;
  return user.trim().startsWith('+') ? `+${digits}` : digits;
}

/**
 * A session id derived from the call id, so a retried webhook for the same call finds the same session
 * instead of creating a second one. Shaped like a UUID (version nibble 5, RFC 4122 variant).
 */
export function sessionIdForCall(callId: string): string {
  const h = createHash('sha256').update(`realtime-call:${callId}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
