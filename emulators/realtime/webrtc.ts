import type { EmulatorContext } from './context';
import type { RealtimeSession } from './session';

export async function answerOffer(_offer: string, _session: RealtimeSession, _ctx: EmulatorContext): Promise<{ sdp: string; close(): Promise<void> }> {
  throw new Error('WebRTC not implemented yet');
}
