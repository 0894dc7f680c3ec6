import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildWeb, WEB_DIST } from './static';

/**
 * `npm run build:web`: the page as static files in web/dist, ready for any static host (Static Web Apps,
 * a storage static website). With WEB_API_BASE_URL set, config.json is written beside it; the host's
 * origin must then be listed in the Function app's CORS_ALLOWED_ORIGINS.
 */
const api = process.env.WEB_API_BASE_URL;
await buildWeb();
if (api) {
  const url = new URL(api); // a malformed URL stops the build here, not in the browser
  const authMode = process.env.WEB_AUTH_MODE === 'dev' ? 'dev' : 'platform';
  await writeFile(
    join(WEB_DIST, 'config.json'),
    JSON.stringify({ apiBaseUrl: url.toString().replace(/\/+$/, ''), authMode }),
  );
}
console.log(
  `web/dist built${api ? ` (config.json → ${api})` : ' (no config.json: set WEB_API_BASE_URL to write one)'}`,
);
