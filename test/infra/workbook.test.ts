/**
 * The operator's workbook (infra/modules/workbook.bicep, queries in infra/workbooks/operator.workbook.json): deployed
 * by the template, and every query reads a metric the code emits, by the attributes the code sets.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../shared/telemetry/metrics';
import { deploy } from './compiled';

interface Item {
  type: number;
  name: string;
  content: { query?: string; title?: string };
}

const deployed = deploy().ofType('Microsoft.Insights/workbooks');
const serialized = deployed[0]?.value.properties.serializedData as string;
const workbook = JSON.parse(serialized) as { items: Item[]; fallbackResourceIds: string[] };
const queries = workbook.items.filter((i) => i.type === 3).map((i) => ({ name: i.name, kql: i.content.query! }));
const emitted = new Set<string>(Object.values(METRIC_NAMES));
/** The attribute keys the code puts on metrics (shared/telemetry/metrics.ts and the recorders calling it). */
const telemetrySource = ['shared/telemetry/metrics.ts', 'shared/cost/recorder.ts']
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

const metricsOf = (kql: string) =>
  [...kql.matchAll(/\bname\s*==\s*'([^']+)'|\bname\s+in\s*\(([^)]*)\)|name\s*==\s*'([^']+)'/g)].flatMap((m) =>
    m[1] ? [m[1]] : m[3] ? [m[3]] : [...m[2]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!),
  );

describe('the operator workbook', () => {
  it('is deployed once, against the App Insights component, from the workbook file', () => {
    expect(deployed).toHaveLength(1);
    const file = JSON.parse(readFileSync('infra/workbooks/operator.workbook.json', 'utf8')) as { items: Item[] };
    expect(workbook.items).toEqual(file.items);
    expect(workbook.fallbackResourceIds[0]).toMatch(/Microsoft\.Insights\/components\/appi-/);
    expect(deployed[0]!.value.properties.sourceId).toBe(workbook.fallbackResourceIds[0]);
  });

  it('shows live sessions, turn latency percentiles, tools, judge scores and cost per agent and day', () => {
    const all = queries.map((q) => q.kql).join('\n');
    for (const metric of [
      METRIC_NAMES.sessionsActive,
      METRIC_NAMES.turnLatency,
      METRIC_NAMES.toolErrors,
      METRIC_NAMES.toolLatency,
      METRIC_NAMES.judgeScore,
      METRIC_NAMES.sessionCost,
    ])
      expect(all, metric).toContain(`'${metric}'`);
    expect(all).toMatch(/percentile\(meanMs, 95\)/);
    expect(all).toMatch(/bin\(timestamp, 1d\)/);
  });

  it.each(queries)('query $name reads only metrics the code emits, by attributes it sets', ({ kql }) => {
    const metrics = metricsOf(kql);
    expect(metrics.length, 'a query names at least one metric').toBeGreaterThan(0);
    expect(
      metrics.filter((m) => !emitted.has(m)),
      'metrics no code emits',
    ).toEqual([]);
    // The table the Azure Monitor exporter writes metrics to, and nothing else.
    expect(kql.split('\n')[0]!.trim()).toBe('customMetrics');
    expect(kql).not.toMatch(/\b(traces|requests|dependencies|exceptions|customEvents|union|join)\b/);
    const attributes = [...kql.matchAll(/customDimensions\.(\w+)/g)].map((m) => m[1]!);
    for (const a of attributes) expect(telemetrySource, `attribute ${a}`).toMatch(new RegExp(`\\b${a}\\b`));
    // Columns of customMetrics the queries may use.
    const columns = [...kql.matchAll(/\b(value\w*|cloud_\w+|timestamp)\b/g)].map((m) => m[1]!);
    const known = ['value', 'valueSum', 'valueCount', 'valueMin', 'valueMax', 'cloud_RoleInstance', 'timestamp'];
    expect(columns.filter((c) => !known.includes(c))).toEqual([]);
  });
});
