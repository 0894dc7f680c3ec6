/** Tool-call cards, fed by the backend's `tool.started` / `tool.finished` events (Web PubSub). */
export interface ToolStarted {
  callId: string;
  name: string;
  arguments: string;
  at: number;
}
export interface ToolFinished {
  callId: string;
  name: string;
  /** Which fields came back; the raw output only when the backend runs with DEBUG_TOOL_OUTPUT_TO_PAGE. */
  summary: string;
  output?: string;
  isError: boolean;
  durationMs: number;
}

const MAX_SHOWN = 4000;

export class ToolCards {
  private readonly cards = new Map<string, HTMLElement>();

  constructor(private readonly list: HTMLElement) {}

  private card(callId: string, name: string): HTMLElement {
    let card = this.cards.get(callId);
    if (card) return card;
    card = document.createElement('article');
    card.className = 'tool-card running';
    card.dataset.callId = callId;
    card.setAttribute('aria-label', `Tool call ${name}`);
    card.innerHTML = `
      <header><h3 class="tool-name"></h3><span class="tool-status" role="status">running…</span></header>
      <details open><summary>Arguments</summary><pre class="tool-args"></pre></details>
      <details class="result" hidden><summary>Result</summary><pre class="tool-output"></pre></details>`;
    card.querySelector('.tool-name')!.textContent = name;
    this.list.prepend(card);
    this.cards.set(callId, card);
    return card;
  }

  started(e: ToolStarted) {
    const card = this.card(e.callId, e.name);
    card.querySelector('.tool-args')!.textContent = pretty(e.arguments);
  }

  finished(e: ToolFinished) {
    const card = this.card(e.callId, e.name);
    card.classList.remove('running');
    card.classList.toggle('failed', e.isError);
    card.classList.add('done');
    card.querySelector('.tool-status')!.textContent = `${e.isError ? 'failed' : 'done'} in ${formatMs(e.durationMs)}`;
    const result = card.querySelector<HTMLElement>('.result')!;
    result.hidden = false;
    result.toggleAttribute('open', true);
    card.querySelector('.tool-output')!.textContent = e.output !== undefined ? pretty(e.output) : e.summary;
  }
}

function pretty(text: string): string {
  let out = text;
  try {
    out = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    /* not JSON: show as is */
  }
  return out.length > MAX_SHOWN ? `${out.slice(0, MAX_SHOWN)}\n… (${out.length - MAX_SHOWN} more characters)` : out;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
