import { parseProfile, startRealtimeEmulator } from './index';

/**
 * Standalone emulator: `npx tsx emulators/realtime/cli.ts [--port 7080] [--key k] [--profile azure-openai|openai|voice-live]
 * [--webhook url --secret whsec_…]` (the profile also from REALTIME_EMULATOR_PROFILE).
 * Prints one JSON line `{"url": …}` on stdout when listening (benchmarks read it), logs on stderr.
 */
const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const webhookUrl = arg('webhook');
const secret = arg('secret') ?? process.env.WEBHOOK_SECRET;
const emu = await startRealtimeEmulator({
  profile: parseProfile(arg('profile') ?? process.env.REALTIME_EMULATOR_PROFILE),
  port: Number(arg('port') ?? process.env.REALTIME_EMULATOR_PORT ?? 7080),
  apiKeys: [arg('key') ?? process.env.REALTIME_API_KEY ?? 'emulator-dev-key'],
  webhook: webhookUrl && secret ? { url: webhookUrl, secret } : undefined,
  useEspeak: args.includes('--no-espeak') ? false : undefined,
  log: (l) => process.stderr.write(`${l}\n`),
});
process.stdout.write(`${JSON.stringify({ url: emu.url })}\n`);
const shutdown = () => void emu.stop().then(() => process.exit(0));
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
