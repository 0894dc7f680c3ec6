import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const run = promisify(execFile);

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const RESULTS_DIR = resolve(process.cwd(), 'test-results');

/**
 * A WAV for Chrome's fake microphone: `text` spoken by espeak-ng, resampled to 48 kHz mono 16-bit, with
 * `leadSeconds` of silence first (the call connects while it plays) and `tailSeconds` after, so the
 * emulator's voice activity detection sees the turn end. Chrome loops the file; the tail spaces repeats out.
 */
export async function speechWav(dir: string, text: string, leadSeconds = 3, tailSeconds = 14): Promise<string> {
  const raw = join(dir, 'speech-raw.wav');
  const out = join(dir, 'speech.wav');
  // The emulator's recognizer compares against its own espeak-ng renderings (en-us, 175 wpm).
  await run('espeak-ng', ['-v', 'en-us', '-s', '175', '-w', raw, text]);
  await run('sox', [raw, '-r', '48000', '-c', '1', '-b', '16', out, 'pad', String(leadSeconds), String(tailSeconds)]);
  return out;
}

export async function silentWav(dir: string, seconds = 5): Promise<string> {
  const out = join(dir, 'silence.wav');
  await run('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', out, 'trim', '0', String(seconds)]);
  return out;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Browser console lines and page errors, printed when a test fails. */
  logs: string[];
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** WAV played as the microphone; without it the browser has no fake device and no permission. */
  audioFile?: string;
  extraArgs?: string[];
}

/** Debian's chromium, headless, fake media devices fed from `audioFile`, in a fresh profile. */
export async function launch(opts: LaunchOptions = {}): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'voice-web-profile-'));
  const media = opts.audioFile
    ? [
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${opts.audioFile}`,
      ]
    : ['--use-fake-device-for-media-stream', '--deny-permission-prompts'];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      ...media,
      '--autoplay-policy=no-user-gesture-required',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(opts.extraArgs ?? []),
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  return {
    context,
    page,
    logs,
    close: async () => {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A PNG drawn by the browser itself (no image library needed on the Node side). */
export async function pngFromPage(page: Page): Promise<Buffer> {
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 200;
    const g = c.getContext('2d')!;
    g.fillStyle = '#f4d03f';
    g.fillRect(0, 0, 320, 200);
    g.fillStyle = '#1b4f72';
    g.font = 'bold 40px sans-serif';
    g.fillText('ORDER 1234', 30, 115);
    return c.toDataURL('image/png');
  });
  return Buffer.from(dataUrl.split(',')[1]!, 'base64');
}

/** Waits for the call to go live; a failed start throws at once with the page's own error message. */
export async function waitForLive(page: Page, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (await page.textContent('#state')) ?? '';
    if (state.startsWith('Live')) return;
    const error = (await page.textContent('#error'))?.trim();
    if (state === 'Failed') throw new Error(`the call did not start: ${error}`);
    if (Date.now() > deadline)
      throw new Error(`not live after ${timeoutMs} ms (state "${state}", error "${error ?? ''}")`);
    await page.waitForTimeout(200);
  }
}
