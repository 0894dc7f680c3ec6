import type { FunctionsConfig } from '../shared/config/index';
import type { SessionEventPublisher } from '../shared/events/types';
import { createPublisher } from '../shared/events/webpubsub';
import { createSessionJudge } from '../shared/judge/judge';
import { withSessionJudge } from '../shared/judge/post-session';
import { sharedPostSessionReads } from '../shared/memory/post-session-reads';
import { withSessionBookkeeping } from '../shared/memory/post-session';
import { createSessionSummarizer } from '../shared/memory/summarize';
import type { MemoryStore } from '../shared/memory/types';
import type { SessionStore } from '../shared/stores/sessions';
import { withSessionMetrics } from '../shared/telemetry/lifecycle-metrics';
import { createDailyMinutes, withDailyMinutes } from '../shared/stores/daily-minutes';

/**
 * What happens to each lifecycle state event, built once per process: Web PubSub push, the session row kept
 * in step (timings, end reason), the summary once ended (memory), session metrics, and the LLM-as-judge.
 * The summarizer and the judge share one read of the ended session's row and transcript.
 *
 * Durable mode awaits that work inside the emit activity (checkpointed, retried); the local lifecycle runs
 * it in the background so a state change is never held up by a model call.
 */
export function createSessionEvents(
  config: FunctionsConfig,
  stores: { sessions: SessionStore; history: MemoryStore },
  log: (line: string) => void = (l) => console.log(l),
): SessionEventPublisher {
  const awaitWork = config.LIFECYCLE_MODE === 'durable';
  const reads = sharedPostSessionReads(stores.sessions, stores.history);
  const publisher = withSessionBookkeeping(createPublisher(config), {
    summarize: createSessionSummarizer(config, reads),
    sessions: stores.sessions,
    awaitWork,
    // The local lifecycle's record sits beside the row and mirrors state and timings into it in the same write.
    mirror: config.LIFECYCLE_MODE !== 'local',
    log,
  });
  const counted = withDailyMinutes(publisher, {
    minutes: createDailyMinutes(config),
    sessions: stores.sessions,
    awaitWork,
    log,
  });
  return withSessionJudge(withSessionMetrics(counted, { sessions: stores.sessions }), {
    judge: createSessionJudge(config, reads),
    sampleRate: config.JUDGE_SAMPLE_RATE,
    awaitWork,
    log,
  });
}
