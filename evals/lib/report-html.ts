import type { EvalReport, ScenarioResult } from './runner';

/** A self-contained HTML report: inline CSS and SVG only, no scripts, no external assets. */
const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const fmt = (ms: number | undefined) => (ms === undefined ? '–' : `${Math.round(ms)} ms`);

/** Horizontal bars per turn: first response (dark) over turn total (light), one row per turn. */
function turnLatencyChart(results: ScenarioResult[]): string {
  const rows = results
    .filter((r) => !r.expectedFailure)
    .flatMap((r) =>
      r.turns.map((t, i) => ({
        label: `${r.id} #${i + 1}`,
        first: t.latency.firstResponseMs,
        total: t.latency.totalMs,
        ok: t.passed,
      })),
    );
  if (rows.length === 0) return '<p class="muted">No turns measured.</p>';
  const max = Math.max(1, ...rows.map((r) => Math.max(r.total ?? 0, r.first ?? 0)));
  const labelW = 260;
  const barW = 520;
  const rowH = 20;
  const height = rows.length * rowH + 30;
  const x = (v: number) => labelW + (v / max) * barW;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(max * f));
  const parts: string[] = [];
  for (const t of ticks) {
    parts.push(`<line x1="${x(t)}" y1="0" x2="${x(t)}" y2="${rows.length * rowH}" class="grid"/>`);
    parts.push(`<text x="${x(t)}" y="${rows.length * rowH + 16}" class="tick" text-anchor="middle">${t} ms</text>`);
  }
  rows.forEach((r, i) => {
    const y = i * rowH;
    parts.push(
      `<text x="${labelW - 8}" y="${y + 14}" class="label${r.ok ? '' : ' bad'}" text-anchor="end">${esc(r.label)}</text>`,
    );
    if (r.total !== undefined)
      parts.push(
        `<rect x="${labelW}" y="${y + 3}" width="${Math.max(1, x(r.total) - labelW)}" height="14" class="total"><title>${esc(r.label)}: total ${fmt(r.total)}</title></rect>`,
      );
    if (r.first !== undefined)
      parts.push(
        `<rect x="${labelW}" y="${y + 6}" width="${Math.max(1, x(r.first) - labelW)}" height="8" class="first"><title>${esc(r.label)}: first response ${fmt(r.first)}</title></rect>`,
      );
  });
  return `<svg viewBox="0 0 ${labelW + barW + 40} ${height}" width="100%" role="img" aria-label="Per-turn latency">${parts.join('')}</svg>`;
}

/** Distribution of first-response latency: sorted values as a step line with p50/p95 markers. */
function distributionChart(report: EvalReport): string {
  const values = report.scenarios
    .filter((r) => !r.expectedFailure)
    .flatMap((r) =>
      r.turns.flatMap((t) => (t.latency.firstResponseMs === undefined ? [] : [t.latency.firstResponseMs])),
    )
    .sort((a, b) => a - b);
  if (values.length === 0) return '';
  const w = 520;
  const h = 160;
  const pad = 40;
  const max = Math.max(1, values[values.length - 1]!);
  const px = (i: number) => pad + (values.length === 1 ? w / 2 : (i / (values.length - 1)) * w);
  const py = (v: number) => h - (v / max) * (h - 20) + 10;
  const path = values.map((v, i) => `${i === 0 ? 'M' : 'L'}${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
  const marks = (['p50', 'p95'] as const)
    .map((k) => {
      const v = report.summary.firstResponseMs[k];
      return v === undefined
        ? ''
        : `<line x1="${pad}" x2="${pad + w}" y1="${py(v)}" y2="${py(v)}" class="mark"/><text x="${pad + w + 4}" y="${py(v) + 4}" class="tick">${k} ${v} ms</text>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${w + pad + 90} ${h + 30}" width="100%" role="img" aria-label="First-response latency distribution">
<line x1="${pad}" y1="${h + 10}" x2="${pad + w}" y2="${h + 10}" class="grid"/><text x="${pad}" y="${h + 26}" class="tick">fastest</text><text x="${pad + w}" y="${h + 26}" class="tick" text-anchor="end">slowest (${values.length} turns)</text>
<text x="${pad - 6}" y="${py(max) + 4}" class="tick" text-anchor="end">${max}</text><text x="${pad - 6}" y="${py(0) + 4}" class="tick" text-anchor="end">0</text>
<path d="${path}" class="line"/>${values.map((v, i) => `<circle cx="${px(i)}" cy="${py(v)}" r="2.5" class="dot"><title>${v} ms</title></circle>`).join('')}${marks}</svg>`;
}

function scenarioBlock(r: ScenarioResult): string {
  const status = r.expectedFailure
    ? r.passed
      ? 'passed (should have failed)'
      : 'failed as expected'
    : r.passed
      ? 'passed'
      : 'FAILED';
  const cls = r.ok ? 'ok' : 'bad';
  const speech = r.speech ? ` · voice ${esc(r.speech.voice)}, ${r.speech.wpm} wpm, noise ${r.speech.noise}` : '';
  const judge = r.judge
    ? 'error' in r.judge
      ? `<p class="muted">judge: ${esc(r.judge.error)}</p>`
      : `<p class="judge">judge ${r.judge.overall.toFixed(2)} / 5 — ${Object.entries(r.judge.scores)
          .map(([k, v]) => `${esc(k)} ${v}`)
          .join(', ')}</p>`
    : '';
  const turns = r.turns
    .map(
      (
        t,
        i,
      ) => `<div class="turn"><div><b>#${i + 1} user:</b> ${esc(t.user)}${t.heard !== undefined ? ` <span class="muted">(heard: “${esc(t.heard)}”)</span>` : ''}</div>
${t.toolCalls.map((c) => `<div class="tool">→ ${esc(c.name)}(${esc(JSON.stringify(c.arguments))}) ${c.isError ? '<span class="bad">error</span>' : ''} <span class="muted">${c.durationMs} ms</span></div>`).join('')}
<div><b>assistant:</b> ${esc(t.answer || '(nothing)')}</div>
<div class="muted">first response ${fmt(t.latency.firstResponseMs)} · total ${fmt(t.latency.totalMs)}</div>
<ul>${t.checks.map((c) => `<li class="${c.passed ? 'ok' : 'bad'}">${c.passed ? '✓' : '✗'} ${esc(c.name)} <span class="muted">— ${esc(c.detail)}</span></li>`).join('')}</ul></div>`,
    )
    .join('');
  return `<details class="scenario ${cls}"${r.ok ? '' : ' open'}><summary><span class="badge ${cls}">${esc(status)}</span> <b>${esc(r.suite)} / ${esc(r.id)}</b> <span class="muted">${esc(r.mode)}${speech} · ${r.durationMs} ms</span></summary>
<p>${esc(r.description)}</p>${r.error ? `<p class="bad">error: ${esc(r.error)}</p>` : ''}${judge}${turns}</details>`;
}

export function renderHtmlReport(report: EvalReport): string {
  const s = report.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Voice agent evals — ${s.ok ? 'pass' : 'fail'}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1000px;padding:0 16px;color:#1b1f24}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.muted{color:#6a737d}.ok{color:#1a7f37}.bad{color:#cf222e}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:20px}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;color:#fff}.badge.ok{background:#1a7f37}.badge.bad{background:#cf222e}
details.scenario{border:1px solid #d0d7de;border-radius:8px;margin:8px 0;padding:6px 12px}details.scenario.bad{border-color:#cf222e}
summary{cursor:pointer}.turn{border-top:1px dashed #d0d7de;padding:6px 0}.tool{font-family:ui-monospace,monospace;font-size:12px;color:#0550ae}
ul{margin:4px 0;padding-left:18px}.judge{color:#8250df}
svg .grid{stroke:#d0d7de;stroke-width:1}svg .tick{font-size:10px;fill:#6a737d}svg .label{font-size:11px;fill:#1b1f24}svg .label.bad{fill:#cf222e}
svg .total{fill:#b6e3ff}svg .first{fill:#0969da}svg .line{fill:none;stroke:#0969da;stroke-width:1.5}svg .dot{fill:#0969da}svg .mark{stroke:#bf8700;stroke-dasharray:4 3}
</style></head><body>
<h1>Voice agent evals <span class="badge ${s.ok ? 'ok' : 'bad'}">${s.ok ? 'PASS' : 'FAIL'}</span></h1>
<p class="muted">${esc(report.generatedAt)} · target ${esc(report.target.provider)} @ ${esc(report.target.endpoint)} · model ${esc(report.target.model)} · ${(s.durationMs / 1000).toFixed(1)} s</p>
<div class="cards">
<div class="card">scenarios<b>${s.passed}/${s.scenarios} passed</b></div>
<div class="card">expected failures<b>${s.expectedFailures}</b></div>
<div class="card">unexpected results<b class="${s.unexpected ? 'bad' : 'ok'}">${s.unexpected}</b></div>
<div class="card">first response p50 / p95<b>${fmt(s.firstResponseMs.p50)} / ${fmt(s.firstResponseMs.p95)}</b></div>
<div class="card">turn total p50 / p95<b>${fmt(s.totalMs.p50)} / ${fmt(s.totalMs.p95)}</b></div>
</div>
<h2>Latency per turn</h2><p class="muted">dark: end of the user's turn → first audio/text of the answer; light: → the turn's last response (tool calls included).</p>
${turnLatencyChart(report.scenarios)}
<h2>First-response latency distribution</h2>
${distributionChart(report)}
<h2>Scenarios</h2>
${report.scenarios.map(scenarioBlock).join('\n')}
</body></html>
`;
}
