import type { AgentStore } from '../agents/store';
import { createAgentStore } from '../agents/store';
import type { CommonConfig } from '../config/index';
import { createHistoryStore } from '../memory/history-store';
import { createTextModel, type ChatMessage, type TextModel, type TextModelConfig } from '../memory/text-model';
import type { HistoryStore } from '../memory/types';
import type { StorageConfig } from '../storage/tables';
import { createSessionStore, type SessionStore } from '../stores/sessions';
import { recordJudgeScore } from '../telemetry/metrics';
import { contextFromTraceparent, withSpan } from '../telemetry/tracing';
import { formatForJudge, judgeSystemPrompt } from './prompt';
import { loadRubric } from './rubric';
import { overallOf, parseVerdict, VerdictError, type Verdict } from './schema';
import { createScoreStore, type ScoreStore, type SessionScore } from './store';

export interface JudgeDeps {
  sessions: Pick<SessionStore, 'get'>;
  history: Pick<HistoryStore, 'forSession'>;
  agents: Pick<AgentStore, 'get'>;
  scores: ScoreStore;
  /** Chat completions with JUDGE_MODEL as the model/deployment. */
  textModel: TextModel;
  judgeModel: string;
  rubricsDir?: string;
  now?: () => number;
}

export type JudgeResult =
  | { status: 'scored'; score: SessionScore }
  | { status: 'already_scored'; score: SessionScore }
  | { status: 'no_session' | 'empty' };

/**
 * LLM-as-judge for one ended session: the transcript (from memory) is scored by the judge model against the
 * agent's rubric; the validated verdict is stored in Table `scores` and emitted as `voice.judge.score`.
 * Retry-safe (a Durable activity may run twice): a session already judged with the same number of
 * transcript items is not judged again. A verdict that is not valid JSON gets one corrective retry, then fails.
 */
export async function judgeSession(deps: JudgeDeps, sessionId: string): Promise<JudgeResult> {
  const now = deps.now ?? Date.now;
  const session = await deps.sessions.get(sessionId);
  if (!session) return { status: 'no_session' };
  // The span joins the session's own trace (the request that created it), so the verdict sits with the call.
  const parent = contextFromTraceparent(session.traceparent);
  return withSpan(
    'judge.session',
    { 'session.id': sessionId, 'agent.id': session.agentId, 'judge.model': deps.judgeModel },
    async (span) => {
      const items = await deps.history.forSession(session.historyPartition, sessionId);
      const transcript = formatForJudge(items);
      if (!transcript) return { status: 'empty' } as const;
      const previous = await deps.scores.get(session.agentId, sessionId);
      if (previous && previous.transcriptItems >= items.length)
        return { status: 'already_scored', score: previous } as const;

      const agent = (await deps.agents.get(session.agentId)) ?? { id: session.agentId };
      const rubric = await loadRubric(agent, deps.rubricsDir);
      const messages: ChatMessage[] = [
        { role: 'system', content: judgeSystemPrompt(rubric.text) },
        { role: 'user', content: transcript },
      ];
      let verdict: Verdict;
      const first = await deps.textModel.complete(messages, { maxTokens: 800 });
      try {
        verdict = parseVerdict(first);
      } catch (err) {
        if (!(err instanceof VerdictError)) throw err;
        span.addEvent('judge.retry', { problem: err.message.slice(0, 200) });
        const second = await deps.textModel.complete(
          [
            ...messages,
            { role: 'assistant', content: first },
            { role: 'user', content: `${err.message}. Answer again with only the JSON object.` },
          ],
          { maxTokens: 800 },
        );
        verdict = parseVerdict(second);
      }

      const score: SessionScore = {
        sessionId,
        agentId: session.agentId,
        scores: verdict.scores,
        overall: overallOf(verdict),
        summary: verdict.summary,
        judgeModel: deps.judgeModel,
        rubric: rubric.name,
        transcriptItems: items.length,
        scoredAt: now(),
      };
      await deps.scores.put(score);
      for (const [criterion, s] of Object.entries(score.scores)) {
        recordJudgeScore(criterion, s.score, { agentId: session.agentId, judgeModel: deps.judgeModel });
        span.setAttribute(`judge.score.${criterion}`, s.score);
      }
      recordJudgeScore('overall', score.overall, { agentId: session.agentId, judgeModel: deps.judgeModel });
      span.setAttribute('judge.score.overall', score.overall);
      return { status: 'scored', score } as const;
    },
    { parent },
  );
}

export type JudgeConfig = TextModelConfig & StorageConfig & Pick<CommonConfig, 'JUDGE_MODEL'>;

/**
 * The post-session judge as one function of a session id, built once from configuration — what the
 * lifecycle's post-session step calls (Durable activity in Azure, the local lifecycle locally), after the
 * worker has flushed the transcript:
 *
 *   const judge = createSessionJudge(config);   // once per process
 *   await judge(sessionId);                     // after `ended`
 */
export function createSessionJudge(
  config: JudgeConfig,
  opts: Partial<Omit<JudgeDeps, 'judgeModel'>> = {},
): (sessionId: string) => Promise<JudgeResult> {
  const deps: JudgeDeps = {
    sessions: opts.sessions ?? createSessionStore(config),
    history: opts.history ?? createHistoryStore(config),
    agents: opts.agents ?? createAgentStore(config),
    scores: opts.scores ?? createScoreStore(config),
    // Same resource and auth as the text model (keyless on Azure when no key is set); JUDGE_MODEL as deployment.
    textModel: opts.textModel ?? createTextModel({ ...config, TEXT_MODEL: config.JUDGE_MODEL }),
    judgeModel: config.JUDGE_MODEL,
    rubricsDir: opts.rubricsDir,
    now: opts.now,
  };
  return (sessionId) => judgeSession(deps, sessionId);
}
