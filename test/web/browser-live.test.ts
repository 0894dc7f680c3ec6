import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { launch, screenshot, speechWav, waitForLive, type Browser } from './harness';

/**
 * The page in chromium against the local stack on the emulator's `live` profile (REALTIME_EMULATOR_PROFILE=live):
 * the agent list says `connect: "sdp"`, so the page sends its offer to POST /api/sessions and never holds a
 * credential; the worker attaches by the Live session id and runs the tool under Responses delegation.
 */
describe('web page in chromium on the live profile', () => {
  let stack: Stack;
  let dir: string;
  let browser: Browser | undefined;
  const stackLog: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'voice-web-live-'));
    stack = await startStack({
      ports: 'free',
      env: { REALTIME_EMULATOR_PROFILE: 'live', REALTIME_MODEL: 'gpt-live-1' },
      log: (l) => stackLog.push(`${new Date().toISOString().slice(11, 23)} ${l}`),
    });
  }, 120_000);
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && browser) {
      console.log(browser.logs.slice(-40).join('\n'));
      console.log(
        stackLog
          .filter((l) => !/heartbeat/i.test(l))
          .slice(-60)
          .join('\n'),
      );
    }
    await browser?.close();
    browser = undefined;
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers a spoken question with a tool turn over brokered SDP, then ends the session', async () => {
    const offers: string[] = [];
    browser = await launch({ audioFile: await speechWav(dir, 'where is my order 1234') });
    const { page } = browser;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/sessions')) offers.push(r.postData() ?? '');
    });
    await page.goto(stack.url('web page'));
    await page.locator('#agent option[value="customer-support"]').waitFor({ state: 'attached', timeout: 15_000 });
    await page.selectOption('#agent', 'customer-support');
    await page.fill('#user-id', 'maya');
    await page.click('#start');
    await waitForLive(page);
    const sessionId = (await page.textContent('#session-id'))!.trim();
    // The offer went to the backend, not to the service; no call id was reported.
    expect(offers).toHaveLength(1);
    expect(JSON.parse(offers[0]!)).toMatchObject({ agentId: 'customer-support', sdp: expect.stringMatching(/^v=0/) });

    const card = page.locator('.tool-card.done').first();
    await card.waitFor({ timeout: 45_000 });
    expect(await card.locator('.tool-name').textContent()).toBe('get_order');
    const answer = page.locator('#transcript li.msg.assistant[data-done]').filter({ hasText: /1234/ }).first();
    await answer.waitFor({ timeout: 30_000 });
    await expect
      .poll(async () => Number(await page.getAttribute('#audio-in', 'data-bytes')), { timeout: 10_000 })
      .toBeGreaterThan(2000);
    // Speech only: the page offers no typed message or barge-in command its channel would refuse.
    expect(await page.isEnabled('#message')).toBe(false);
    expect(await page.isEnabled('#interrupt')).toBe(false);
    expect(await page.isEnabled('#mute')).toBe(true);
    await screenshot(page, 'web-live-call.png');

    await page.click('#end');
    await expect.poll(() => page.textContent('#state')).toBe('Call ended');
    await expect
      .poll(
        async () => {
          const res = await fetch(`${stack.url('functions')}/sessions/${sessionId}`, {
            headers: { 'x-user-id': 'maya' },
          });
          return ((await res.json()) as { state?: string }).state;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe('ended');
  }, 180_000);
});
