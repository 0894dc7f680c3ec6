import { describe, expect, it } from 'vitest';
import { normalizeOrderId, seedArticles, seedOrders } from '../../shared/tools/data';
import { findCity, searchArticles, timeIn, weatherFor } from '../../shared/tools/local';
import { renderCallResult, truncate } from '../../shared/mcp/output';

describe('built-in tool logic', () => {
  const now = new Date('2026-11-27T12:00:00Z');

  it('get_time accepts IANA zones and covered city names, refuses others', () => {
    const tokyo = timeIn('Asia/Tokyo', now);
    expect(tokyo.ok && JSON.parse(tokyo.text)).toMatchObject({
      timezone: 'Asia/Tokyo',
      time: '9:00 PM',
      date: 'Friday, November 27, 2026',
      utcOffset: 'GMT+9',
    });
    const paris = timeIn('paris', now);
    expect(paris.ok && JSON.parse(paris.text).timezone).toBe('Europe/Paris');
    expect(timeIn(undefined, now).ok && JSON.parse((timeIn(undefined, now) as { text: string }).text).timezone).toBe(
      'UTC',
    );
    const bad = timeIn('Mars/Olympus', now);
    expect(bad.ok).toBe(false);
  });

  it('get_weather finds cities by name, alias and without accents', () => {
    expect(findCity('NYC')?.city).toBe('New York');
    expect(findCity('Sao Paulo, Brazil')?.city).toBe('São Paulo');
    const w = weatherFor('chicago');
    expect(w.ok && JSON.parse(w.text)).toMatchObject({ city: 'Chicago', temperatureC: -3, temperatureF: 27 });
    expect(weatherFor('Gotham').ok).toBe(false);
  });

  it('search ranks the relevant article first', () => {
    const kb = seedArticles();
    expect(searchArticles(kb, 'my parcel is stuck', 3)[0]?.id).toBe('late-parcel');
    expect(searchArticles(kb, 'can I pay with PayPal', 1).map((a) => a.id)).toEqual(['payment-methods']);
    expect(searchArticles(kb, 'the and of', 3)).toEqual([]);
  });

  it('seed orders get dates relative to now and computed totals', () => {
    const t = Date.parse('2026-11-27T00:00:00Z');
    const o = seedOrders(t).find((x) => x.orderId === '1234')!;
    expect(o.placedAt).toBe('2026-11-23T00:00:00.000Z');
    expect(o.estimatedDelivery).toBe('2026-11-29');
    expect(o.total).toBe(263.5);
    expect(normalizeOrderId('Order #12-34')).toBe('1234');
  });

  it('renders tool results as model-readable text', () => {
    expect(
      renderCallResult('t', {
        content: [
          { type: 'text', text: 'a' },
          { type: 'image', data: 'x' },
        ],
      }),
    ).toBe('a\n[image content omitted]');
    expect(renderCallResult('t', { content: [], structuredContent: { n: 1 } })).toBe('{"n":1}');
    expect(renderCallResult('t', { content: [{ type: 'text', text: 'nope' }], isError: true })).toMatch(
      /^The t tool reported an error: nope/,
    );
    expect(truncate('x'.repeat(10), 4)).toMatch(/^xxxx\n\[output truncated: 6 more characters\]$/);
  });
});
