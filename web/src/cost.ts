import type { PushEvent } from './push';

/** The call's running cost as the worker prices it (the backend's price table, not an invoice). */
export function showCost(el: HTMLElement, e: Extract<PushEvent, { type: 'cost' }> | undefined): void {
  el.dataset.usd = e?.usd === null || e === undefined ? '' : String(e.usd);
  el.classList.toggle('alert', Boolean(e?.alert));
  if (!e) el.textContent = '—';
  else if (e.usd === null) el.textContent = `${e.inputTokens + e.outputTokens} tokens (no price)`;
  else el.textContent = `$${e.usd.toFixed(e.usd < 1 ? 4 : 2)}${e.alert ? ' (over the alert)' : ''}`;
}
