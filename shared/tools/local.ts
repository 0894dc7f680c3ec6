import weatherData from './seed/weather.json';
import type { Article } from './data';

/** The time, weather and knowledge-search logic behind the built-in tools: pure functions, unit-testable. */

export type Outcome = { ok: true; text: string } | { ok: false; error: string };

export interface CityWeather {
  city: string;
  country: string;
  timezone: string;
  aliases: string[];
  conditions: string;
  tempC: number;
  feelsLikeC: number;
  humidity: number;
  windKph: number;
  forecast: string;
}

const fold = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
const cities = weatherData.cities as CityWeather[];

export function findCity(name: string): CityWeather | undefined {
  const q = fold(name.split(',')[0] ?? name);
  return cities.find((c) => fold(c.city) === q || c.aliases.some((a) => fold(a) === q));
}

const covered = () => cities.map((c) => c.city).join(', ');

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** `timezone` is an IANA zone, or a city from the data set (models often pass "Paris" for Europe/Paris). */
export function timeIn(timezone: string | undefined, now: Date): Outcome {
  let zone = timezone?.trim() || 'UTC';
  let place = zone;
  if (!validZone(zone)) {
    const city = findCity(zone);
    if (!city) {
      return {
        ok: false,
        error: `Unknown timezone "${zone}". Use an IANA name such as Europe/Paris or America/New_York.`,
      };
    }
    zone = city.timezone;
    place = `${city.city} (${zone})`;
  }
  const fmt = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat('en-US', { timeZone: zone, ...o }).format(now);
  return {
    ok: true,
    text: JSON.stringify({
      timezone: zone,
      place,
      time: fmt({ hour: 'numeric', minute: '2-digit' }),
      date: fmt({ weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' }),
      utcOffset: fmt({ timeZoneName: 'shortOffset' }).split(' ').pop(),
      utc: now.toISOString(),
    }),
  };
}

export function weatherFor(city: string): Outcome {
  const c = findCity(city);
  if (!c) return { ok: false, error: `No weather data for "${city}". Cities covered: ${covered()}.` };
  const f = (celsius: number) => Math.round((celsius * 9) / 5 + 32);
  return {
    ok: true,
    text: JSON.stringify({
      city: c.city,
      country: c.country,
      conditions: c.conditions,
      temperatureC: c.tempC,
      temperatureF: f(c.tempC),
      feelsLikeC: c.feelsLikeC,
      feelsLikeF: f(c.feelsLikeC),
      humidityPercent: c.humidity,
      windKph: c.windKph,
      forecast: c.forecast,
      observedAt: weatherData.observedAt,
      source: weatherData.source,
    }),
  };
}

const STOP = new Set([
  'a',
  'an',
  'the',
  'is',
  'are',
  'my',
  'i',
  'to',
  'of',
  'for',
  'do',
  'does',
  'can',
  'how',
  'what',
  'when',
  'and',
  'or',
  'in',
  'on',
  'it',
  'you',
  'your',
  'me',
  'with',
  'about',
]);
const words = (s: string) =>
  fold(s)
    .split(' ')
    .filter((w) => w.length > 1 && !STOP.has(w));
/** Crude stemming so "returns"/"returned" match "return": good enough for a small help centre. */
const stem = (w: string) => w.replace(/(ing|ed|es|s)$/, '') || w;

/** Ranks articles by weighted term overlap: title and tags count double. */
export function searchArticles(articles: Article[], query: string, limit: number): Article[] {
  const terms = new Set(words(query).map(stem));
  if (terms.size === 0) return [];
  const scored = articles.map((a) => {
    const strong = new Set([...words(a.title), ...a.tags.flatMap(words)].map(stem));
    const weak = new Set(words(a.body).map(stem));
    let score = 0;
    for (const t of terms) score += (strong.has(t) ? 2 : 0) + (weak.has(t) ? 1 : 0);
    return { a, score };
  });
  return scored
    .filter((s) => s.score > 0)
    .sort((x, y) => y.score - x.score || x.a.id.localeCompare(y.a.id))
    .slice(0, limit)
    .map((s) => s.a);
}
