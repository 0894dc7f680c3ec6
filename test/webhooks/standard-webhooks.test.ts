import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  createWebhookVerifier,
  signWebhook,
  type WebhookVerificationError,
} from '../../shared/webhooks/standard-webhooks';
import { sessionIdForCall, sipNumber } from '../../shared/webhooks/sip';

const SECRET = `whsec_${Buffer.from('first-secret-32-bytes-long-xxxxx').toString('base64')}`;
const NEXT = `whsec_${Buffer.from('rotated-secret-32-bytes-long-xxx').toString('base64')}`;
const body = Buffer.from(
  JSON.stringify({ id: 'evt_1', type: 'realtime.call.incoming', data: { call_id: 'rtc_1', sip_headers: [] } }),
);
const nowS = () => Math.floor(Date.now() / 1000);
const headersOf = (h: Record<string, string>) => new Headers(h);
const verifyError = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e as WebhookVerificationError;
  }
  throw new Error('expected a verification error');
};

describe('Standard Webhooks verification', () => {
  const verify = createWebhookVerifier([SECRET, NEXT]);

  it('accepts a delivery signed with any configured secret (rotation)', () => {
    expect(verify(body, headersOf(signWebhook(SECRET, 'wh_1', nowS(), body)))).toMatchObject({ id: 'wh_1' });
    expect(verify(body, headersOf(signWebhook(NEXT, 'wh_2', nowS(), body)))).toMatchObject({ id: 'wh_2' });
  });

  it('accepts when one of several space-separated signatures matches', () => {
    const h = signWebhook(NEXT, 'wh_3', nowS(), body);
    h['webhook-signature'] = `v1,${Buffer.alloc(32).toString('base64')} ${h['webhook-signature']}`;
    expect(verify(body, headersOf(h)).id).toBe('wh_3');
  });

  it('interoperates with the openai SDK: what we sign, openai.webhooks.verifySignature accepts', async () => {
    const client = new OpenAI({ apiKey: 'unused', webhookSecret: SECRET });
    const h = signWebhook(SECRET, 'wh_sdk', nowS(), body);
    await expect(client.webhooks.verifySignature(body.toString('utf8'), h)).resolves.toBeUndefined();
  });

  it('refuses a forged signature, a tampered body and an unknown secret with 401', () => {
    const h = signWebhook(SECRET, 'wh_4', nowS(), body);
    const tampered = Buffer.from(body.toString().replace('rtc_1', 'rtc_2'));
    expect(verifyError(() => verify(tampered, headersOf(h)))).toMatchObject({
      status: 401,
      code: 'webhook_signature_invalid',
    });
    const other = `whsec_${Buffer.from('attacker').toString('base64')}`;
    expect(verifyError(() => verify(body, headersOf(signWebhook(other, 'wh_5', nowS(), body))))).toMatchObject({
      status: 401,
    });
    // Signed id is part of the MAC: replaying a signature under another webhook-id fails.
    expect(verifyError(() => verify(body, headersOf({ ...h, 'webhook-id': 'wh_other' })))).toMatchObject({
      status: 401,
    });
  });

  it('refuses stale and far-future timestamps (5 min tolerance) with 401', () => {
    expect(verifyError(() => verify(body, headersOf(signWebhook(SECRET, 'wh_6', nowS() - 301, body))))).toMatchObject({
      status: 401,
      code: 'webhook_stale',
    });
    expect(verifyError(() => verify(body, headersOf(signWebhook(SECRET, 'wh_7', nowS() + 301, body))))).toMatchObject({
      status: 401,
      code: 'webhook_stale',
    });
    expect(verify(body, headersOf(signWebhook(SECRET, 'wh_8', nowS() - 290, body))).id).toBe('wh_8');
  });

  it('refuses missing or malformed headers with 400', () => {
    expect(verifyError(() => verify(body, headersOf({})))).toMatchObject({
      status: 400,
      code: 'webhook_headers_missing',
    });
    const h = signWebhook(SECRET, 'wh_9', nowS(), body);
    expect(verifyError(() => verify(body, headersOf({ ...h, 'webhook-timestamp': 'yesterday' })))).toMatchObject({
      status: 400,
      code: 'webhook_malformed',
    });
    expect(verifyError(() => verify(body, headersOf({ ...h, 'webhook-signature': 'garbage' })))).toMatchObject({
      status: 401,
    });
  });

  it('with no secret configured nothing verifies', () => {
    expect(
      verifyError(() => createWebhookVerifier([])(body, headersOf(signWebhook(SECRET, 'x', nowS(), body)))),
    ).toMatchObject({ status: 401 });
  });
});

describe('SIP helpers', () => {
  it('extracts the number from From/To header values', () => {
    expect(sipNumber('"Ada" <sip:+14155550123@sip.example.com>;tag=abc')).toBe('+14155550123');
    expect(sipNumber('<sip:18005550100@sip.api.openai.com;user=phone>')).toBe('18005550100');
    expect(sipNumber('tel:+44 20 7946 0958')).toBe('+442079460958');
    expect(sipNumber('<sip:anonymous@anonymous.invalid>')).toBeUndefined();
    expect(sipNumber(undefined)).toBeUndefined();
  });

  it('derives one stable UUID-shaped session id per call id', () => {
    const a = sessionIdForCall('rtc_abc');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sessionIdForCall('rtc_abc')).toBe(a);
    expect(sessionIdForCall('rtc_abd')).not.toBe(a);
  });
});
