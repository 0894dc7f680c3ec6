import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { launch, pngFromPage, screenshot, silentWav, speechWav, waitForLive, type Browser } from './harness';

/**
 * The page in a real browser against the whole local stack: Debian chromium with a fake microphone that
 * plays espeak-ng speech, the realtime emulator, the Function app, the worker and Web PubSub. One stack
 * serves every test here (each test has its own browser profile).
 */
describe('web page in chromium against the local stack', () => {
  let stack: Stack;
  let dir: string;
  let browser: Browser | undefined;
  const stackLog: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'voice-web-test-'));
    stack = await startStack({
      ports: 'free',
      env: {},
      log: (l) => stackLog.push(`${new Date().toISOString().slice(11, 23)} ${l}`),
    });
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && browser) {
      await screenshot(browser.page, `failed-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}.png`).catch(() => {});
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

  const session = async (sessionId: string, userId: string) => {
    const res = await fetch(`${stack.url('functions')}/sessions/${sessionId}`, { headers: { 'x-user-id': userId } });
    return (await res.json()) as { state?: string; callId?: string };
  };
  const sessionState = async (sessionId: string, userId: string) => (await session(sessionId, userId)).state;
  const sessionCall = async (sessionId: string, userId: string) => (await session(sessionId, userId)).callId;

  async function openPage(audioFile: string) {
    browser = await launch({ audioFile });
    const { page } = browser;
    await page.goto(stack.url('web page'));
    await page.locator('#agent option[value="customer-support"]').waitFor({ state: 'attached', timeout: 15_000 });
    await page.selectOption('#agent', 'customer-support');
    // Orders have owners: the signed-in user is Maya, whose order 1234 is.
    await page.fill('#user-id', 'maya');
    return page;
  }

  it('answers a spoken question: audio in, tool card, answer transcript, audio out, session ended', async () => {
    const page = await openPage(await speechWav(dir, 'where is my order 1234'));
    await page.click('#start');
    await waitForLive(page);
    const sessionId = (await page.textContent('#session-id'))!.trim();
    const userId = await page.inputValue('#user-id');

    // The question reached the emulator as audio: it transcribed it and the worker ran the tool.
    const user = page.locator('#transcript li.msg.user[data-done]').filter({ hasText: /order/i }).first();
    await user.waitFor({ timeout: 45_000 });
    expect(await user.textContent()).toMatch(/1234/);
    const card = page.locator('.tool-card.done').first();
    await card.waitFor({ timeout: 30_000 });
    expect(await card.locator('.tool-name').textContent()).toBe('get_order');
    expect(await card.locator('.tool-args').textContent()).toContain('1234');
    expect(await card.locator('.tool-status').textContent()).toMatch(/done in \d/);

    const answer = page.locator('#transcript li.msg.assistant[data-done]').filter({ hasText: /1234/ }).first();
    await answer.waitFor({ timeout: 30_000 });

    // The answer was heard: WebRTC audio bytes arrived and the audio element's clock is running.
    await expect
      .poll(async () => Number(await page.getAttribute('#audio-in', 'data-bytes')), { timeout: 10_000 })
      .toBeGreaterThan(2000);
    // The running cost of the call, pushed by the worker over Web PubSub after each billed response.
    await expect
      .poll(async () => Number(await page.getAttribute('#call-cost', 'data-usd')), { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(await page.textContent('#call-cost')).toMatch(/^\$0\.\d{4}$/);
    const t0 = await page.evaluate(() => (document.getElementById('remote-audio') as HTMLAudioElement).currentTime);
    await expect
      .poll(() => page.evaluate(() => (document.getElementById('remote-audio') as HTMLAudioElement).currentTime), {
        timeout: 5000,
      })
      .toBeGreaterThan(t0);

    // Time to first audio was measured for the spoken turn.
    expect(Number(await page.locator('#timings li[data-ms]').first().getAttribute('data-ms'))).toBeGreaterThan(0);
    await screenshot(page, 'web-voice-call.png');

    await page.click('#end');
    await expect.poll(() => page.textContent('#state')).toBe('Call ended');
    await expect.poll(() => sessionState(sessionId, userId), { timeout: 20_000, interval: 500 }).toBe('ended');
  }, 150_000);

  it('resumes the same session after the connection drops', async () => {
    const page = await openPage(await silentWav(dir));
    await page.click('#start');
    await waitForLive(page);
    const sessionId = (await page.textContent('#session-id'))!.trim();
    const userId = await page.inputValue('#user-id');
    // A drop mid-call: the backend has joined (pushed over Web PubSub) before the network goes.
    await expect.poll(() => page.textContent('#backend-state'), { timeout: 20_000 }).toBe('live');
    const callBefore = await sessionCall(sessionId, userId);

    await page.evaluate(() => window.dispatchEvent(new Event('voice-agent:simulate-network-drop')));
    await page.locator('#transcript li.note', { hasText: 'Connection lost' }).waitFor();
    await page
      .locator('#transcript li.note', { hasText: 'Reconnected: the session continues.' })
      .waitFor({ timeout: 20_000 });
    await waitForLive(page);
    expect((await page.textContent('#session-id'))!.trim()).toBe(sessionId);
    await expect.poll(() => sessionCall(sessionId, userId), { timeout: 10_000 }).not.toBe(callBefore);

    // The resumed call carries the conversation on.
    await page.fill('#message', 'where is my order 1234');
    await page.press('#message', 'Enter');
    await page
      .locator('#transcript li.msg.assistant[data-done]', { hasText: /1234/ })
      .first()
      .waitFor({ timeout: 30_000 });
    await page.click('#end');
  }, 120_000);

  it('interrupts the agent mid-answer (barge-in from the page)', async () => {
    const page = await openPage(await silentWav(dir));
    await page.click('#start');
    await waitForLive(page);
    // The page holds the microphone and the text box until the backend's worker has joined: a tool call
    // made before that would go unanswered. So by the time the page is live, the backend is too.
    expect(await page.isEnabled('#message')).toBe(true);
    await expect.poll(() => page.textContent('#backend-state'), { timeout: 2_000 }).toBe('live');
    await page.fill('#message', 'how do refunds work'); // a long spoken answer
    await page.press('#message', 'Enter');
    await expect.poll(() => page.textContent('#state'), { timeout: 20_000 }).toBe('Live · agent speaking');
    await page.click('#interrupt');
    // The service truncated the answer where playback stopped, and the page marks it.
    await page.locator('#transcript li.msg.assistant.interrupted').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.textContent('#state')).toBe('Live · listening');
    expect(await page.isVisible('#error')).toBe(false);
    await page.click('#end');
  }, 60_000);

  it('answers a typed question with an image', async () => {
    const page = await openPage(await silentWav(dir));
    await page.click('#start');
    await waitForLive(page);

    await page.setInputFiles('#image', { name: 'order.png', mimeType: 'image/png', buffer: await pngFromPage(page) });
    await page.locator('#attachment:not([hidden])').waitFor();
    await page.fill('#message', 'What does this picture show?');
    await page.press('#message', 'Enter');

    const sent = page.locator('#transcript li.msg.user').filter({ hasText: 'What does this picture show?' });
    await sent.locator('img.sent-image').waitFor({ timeout: 5000 });
    expect(await page.locator('#attachment').isHidden()).toBe(true);
    // The emulator acknowledges an input_image only when one arrived in the conversation item.
    const answer = page
      .locator('#transcript li.msg.assistant[data-done]')
      .filter({ hasText: /received your image/i })
      .first();
    await answer.waitFor({ timeout: 30_000 });
    await screenshot(page, 'web-typed-image.png');

    // Phone width: one column, nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 812 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(page, 'web-phone.png');
    await page.click('#end');
  }, 120_000);

  // Every failure ends in a sentence naming it, never a spinner that never stops.
  it('explains a denied microphone and offers to go on without it', async () => {
    browser = await launch(); // no fake-UI flag: the permission prompt is denied
    const { page } = browser;
    await page.goto(stack.url('web page'));
    await page.locator('#agent option[value="customer-support"]').waitFor({ state: 'attached' });
    await page.selectOption('#agent', 'customer-support');
    await page.click('#start');
    await expect.poll(() => page.textContent('#error')).toMatch(/Microphone access was denied/);
    expect(await page.isVisible('#text-only')).toBe(true);
    expect(await page.textContent('#state')).toBe('Failed');
    expect(await page.textContent('#progress')).toBe('');
    expect(await page.isEnabled('#start')).toBe(true);

    // Without a microphone the call is receive-only and the person types.
    await page.click('#text-only');
    await waitForLive(page);
    await expect.poll(() => page.textContent('#backend-state'), { timeout: 20_000 }).toBe('live');
    await page.fill('#message', 'how do refunds work');
    await page.press('#message', 'Enter');
    await page
      .locator('#transcript li.msg.assistant[data-done]', { hasText: /refund/i })
      .first()
      .waitFor({ timeout: 30_000 });
    await page.click('#end');
  }, 60_000);

  it('says the backend is unreachable when it cannot be reached', async () => {
    browser = await launch();
    const { page } = browser;
    await page.route('**/api/agents', (route) => route.abort('connectionrefused'));
    await page.goto(stack.url('web page'));
    await expect
      .poll(() => page.textContent('#error'))
      .toMatch(/Cannot reach the backend at http:\/\/127\.0\.0\.1:\d+\/api/);
    expect(await page.isDisabled('#start')).toBe(true);
  });

  it('says the realtime service refused the token', async () => {
    browser = await launch({ audioFile: undefined, extraArgs: ['--use-fake-ui-for-media-stream'] });
    const { page } = browser;
    // The service answers the SDP offer with 401, as it does for an expired or foreign ephemeral key.
    await page.route('**/realtime/calls**', (route) =>
      route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ error: { message: 'invalid ephemeral key' } }),
      }),
    );
    await page.goto(stack.url('web page'));
    await page.locator('#agent option[value="customer-support"]').waitFor({ state: 'attached' });
    await page.click('#start');
    await expect.poll(() => page.textContent('#error'), { timeout: 15_000 }).toMatch(/refused the session token/);
    expect(await page.textContent('#state')).toBe('Failed');
  });
});
