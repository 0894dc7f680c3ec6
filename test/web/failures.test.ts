import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/local/stack';
import { launch, screenshot, type Browser } from './harness';

/** Every failure the page can meet ends in a sentence naming it, never a spinner that never stops. */
describe('web page failure messages in chromium', () => {
  let stack: Stack;
  let browser: Browser | undefined;

  beforeAll(async () => {
    stack = await startStack({ ports: 'free', env: {} });
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && browser) {
      await screenshot(browser.page, `failed-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}.png`).catch(() => {});
      console.log(browser.logs.slice(-40).join('\n'));
    }
    await browser?.close();
    browser = undefined;
  });
  afterAll(async () => stack?.stop());

  it('explains a denied microphone and offers to go on without it', async () => {
    browser = await launch(); // no fake-UI flag: the permission prompt is denied
    const { page } = browser;
    await page.goto(stack.url('web page'));
    await page.locator('#agent option[value="customer-support"]').waitFor({ state: 'attached' });
    await page.click('#start');
    await expect.poll(() => page.textContent('#error')).toMatch(/Microphone access was denied/);
    expect(await page.isVisible('#text-only')).toBe(true);
    expect(await page.textContent('#state')).toBe('Failed');
    expect(await page.textContent('#progress')).toBe('');
    expect(await page.isEnabled('#start')).toBe(true);
  });

  it('says the backend is unreachable when it cannot be reached', async () => {
    browser = await launch();
    const { page } = browser;
    await page.route('**/api/agents', (route) => route.abort('connectionrefused'));
    await page.goto(stack.url('web page'));
    await expect.poll(() => page.textContent('#error')).toMatch(/Cannot reach the backend at http:\/\/127\.0\.0\.1:\d+\/api/);
    expect(await page.isDisabled('#start')).toBe(true);
  });

  it('says the realtime service refused the token', async () => {
    browser = await launch({ audioFile: undefined, extraArgs: ['--use-fake-ui-for-media-stream'] });
    const { page } = browser;
    // The service answers the SDP offer with 401, as it does for an expired or foreign ephemeral key.
    await page.route('**/realtime/calls**', (route) =>
      route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: { message: 'invalid ephemeral key' } }) }),
    );
    await page.goto(stack.url('web page'));
    await page.locator('#agent option[value="customer-support"]').waitFor({ state: 'attached' });
    await page.click('#start');
    await expect.poll(() => page.textContent('#error'), { timeout: 15_000 }).toMatch(/refused the session token/);
    expect(await page.textContent('#state')).toBe('Failed');
  });
});
