import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarios, matchRule, renderTemplate, resolveTool } from '../../emulators/realtime/scenarios';

describe('scenarios', () => {
  it('loads the shipped scenarios, each with samples for spoken input', () => {
    const s = loadScenarios();
    expect(s.map((x) => x.name).sort()).toEqual(['concierge', 'general', 'support']);
    expect(
      s
        .flatMap((x) => x.rules)
        .filter((r) => r.tool)
        .every((r) => (r.samples ?? []).length > 0),
    ).toBe(true);
  });

  it('names the file and field of an invalid scenario', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scn-'));
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ name: 'bad', rules: [{ id: 'x', match: 'hi', tool: 'get_x' }] }),
    );
    expect(() => loadScenarios(dir)).toThrow(/bad\.json: rules\.0: a tool rule needs an `answer` template/);
  });

  it('matches tools exactly or by the <server>__<tool> suffix only', () => {
    expect(resolveTool('get_order', ['shop__get_order'])).toBe('shop__get_order');
    expect(resolveTool('get_order', ['get_order', 'shop__get_order'])).toBe('get_order');
    expect(resolveTool('get_order', ['xget_order', 'get_orders'])).toBeUndefined();
  });

  it('renders templates from groups and tool output, with fallbacks', () => {
    const mcp = { content: [{ type: 'text', text: JSON.stringify({ status: 'shipped', eta: { day: 'Friday' } }) }] };
    expect(
      renderTemplate('Order {{orderId}} is {{output.status|unknown}}, {{output.eta.day}}.', { orderId: '42' }, mcp),
    ).toBe('Order 42 is shipped, Friday.');
    expect(renderTemplate('{{output.missing|output.status|none}}', {}, { status: 'ok' })).toBe('ok');
    expect(renderTemplate('{{output.missing|none at all}}', {}, {})).toBe('none at all');
    expect(renderTemplate('{{city|here}}', {})).toBe('here');
    expect(renderTemplate('{{output}}', {}, 'plain text')).toBe('plain text');
  });

  it('extracts named groups from the user words', () => {
    const [m] = matchRule(loadScenarios(), 'Hi, where is my order 98765 please?').filter(
      (x) => x.rule.id === 'order-status',
    );
    expect(m?.groups).toEqual({ orderId: '98765' });
  });
});
