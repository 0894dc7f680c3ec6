/**
 * Per-turn latency as the user perceives it: from the moment the service decides the user stopped speaking
 * (`input_audio_buffer.speech_stopped`) to the first audio of the answer (`response.output_audio.delta`, or
 * `output_audio_buffer.started` on WebRTC calls).
 * Pure: the caller passes each sideband server event with the time it was received, so tests are exact and
 * the same tracker serves the worker and the eval harness.
 */
export interface TurnLatency {
  latencyMs: number;
  /** The response whose first delta closed the turn. */
  responseId?: string;
  /** The input item whose speech started the turn. */
  itemId?: string;
  /** Which event closed the turn: audio normally, text for text-only agents. */
  via: 'audio' | 'text';
}

/**
 * First audio of an answer: deltas on WebSocket sessions (GA and beta names, the latter from Voice Live and
 * older deployments); on WebRTC calls audio goes on the media track and the data channel / sideband only
 * hears `output_audio_buffer.started` when playback begins.
 */
const AUDIO_DELTA = new Set(['response.output_audio.delta', 'response.audio.delta', 'output_audio_buffer.started']);
const TEXT_DELTA = new Set(['response.output_text.delta', 'response.text.delta']);

export interface TurnLatencyOptions {
  /** Also close a turn on the first text delta (agents whose output modality is text). Default true. */
  countText?: boolean;
}

export class TurnLatencyTracker {
  private stoppedAt: number | undefined;
  private itemId: string | undefined;
  private readonly countText: boolean;
  readonly turns: TurnLatency[] = [];

  constructor(opts: TurnLatencyOptions = {}) {
    this.countText = opts.countText ?? true;
  }

  /** Feeds one server event; returns the turn's latency when this event completes a turn. */
  observe(event: { type?: unknown; item_id?: unknown; response_id?: unknown }, atMs: number): TurnLatency | undefined {
    const type = typeof event.type === 'string' ? event.type : '';
    switch (type) {
      case 'input_audio_buffer.speech_started':
        // The user is (again) talking: a pending turn has not ended yet, so nothing is measured until the next stop.
        this.stoppedAt = undefined;
        this.itemId = undefined;
        return undefined;
      case 'input_audio_buffer.speech_stopped':
        this.stoppedAt = atMs;
        this.itemId = typeof event.item_id === 'string' ? event.item_id : undefined;
        return undefined;
      default:
        break;
    }
    const isAudio = AUDIO_DELTA.has(type);
    const isText = this.countText && TEXT_DELTA.has(type);
    if ((!isAudio && !isText) || this.stoppedAt === undefined) return undefined;
    const turn: TurnLatency = {
      latencyMs: Math.max(0, atMs - this.stoppedAt),
      responseId: typeof event.response_id === 'string' ? event.response_id : undefined,
      itemId: this.itemId,
      via: isAudio ? 'audio' : 'text',
    };
    // Only the FIRST delta after the stop counts; later deltas of the same answer are streaming, not latency.
    this.stoppedAt = undefined;
    this.itemId = undefined;
    this.turns.push(turn);
    return turn;
  }

  /** A turn is open: the user stopped speaking and no answer has started yet. */
  get pending(): boolean {
    return this.stoppedAt !== undefined;
  }
}

/** Nearest-rank percentile of a list of numbers (p in 0..100); undefined for an empty list. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}
