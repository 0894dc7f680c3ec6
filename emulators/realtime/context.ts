import type { Principal } from './auth';
import type { Faults } from './faults';
import type { Scenario } from './scenarios';
import type { Speech } from './tts';

/** One connection that receives a session's server events: a WebSocket or a WebRTC data channel. */
export interface Sink {
  readonly id: string;
  readonly kind: 'websocket' | 'datachannel';
  /** Sideband (`?call_id=`) connections are the server's; the lock on ephemeral sessions does not bind them. */
  readonly principal: Principal;
  send(json: string): void;
  close(code?: number, reason?: string): void;
}

/** Turns committed user audio (PCM16 24 kHz) into text, or `[inaudible]`. */
export interface Recognizer {
  recognize(pcm: Int16Array): Promise<string>;
}

/** What every session shares: the scripted model, speech, recognition, faults, logging. */
export interface EmulatorContext {
  scenarios: Scenario[];
  speech: Speech;
  recognizer: Recognizer;
  faults: Faults;
  log: (line: string) => void;
  /** Maximum session duration (the service's is 60 minutes). */
  maxSessionMs?: number;
}
