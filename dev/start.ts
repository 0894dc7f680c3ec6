import { ConfigError } from '../shared/config/index';
import { DEFAULT_DATA_DIR, startStack } from './stack';
import { PortInUseError } from './ports';
import { initTelemetry } from '../shared/telemetry/init';

/** `npm start`: the whole local stack, one table of URLs, Ctrl-C stops every child. */
async function main() {
  const verbose = process.argv.includes('--verbose');
  // The in-process Function app's spans and metrics: OTEL_EXPORTER=console|otlp (the workers set up their own).
  const exporter =
    process.env.OTEL_EXPORTER === 'console' || process.env.OTEL_EXPORTER === 'otlp'
      ? process.env.OTEL_EXPORTER
      : 'none';
  await initTelemetry({
    config: {
      OTEL_EXPORTER: exporter,
      APPLICATIONINSIGHTS_CONNECTION_STRING: process.env.APPLICATIONINSIGHTS_CONNECTION_STRING || undefined,
    },
    serviceName: 'functions',
  });
  const stack = await startStack({
    ports: 'fixed',
    dataDir: process.env.AZURITE_LOCATION ?? DEFAULT_DATA_DIR,
    log: verbose ? (l) => console.log(l) : undefined,
  });
  console.log('\nLocal stack is up:\n');
  const width = Math.max(...stack.services.map((s) => s.name.length));
  for (const s of stack.services) console.log(`  ${s.name.padEnd(width)}  ${s.url}`);
  console.log('\nCtrl-C stops everything.\n');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  if (err instanceof ConfigError || err instanceof PortInUseError) console.error(`\n${err.message}\n`);
  else console.error(err);
  process.exit(1);
});
