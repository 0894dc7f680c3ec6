/** LLM-as-judge: scores an ended session's transcript against its agent's rubric (evals/rubrics/*.md). */
export { judgeSession, createSessionJudge, type JudgeDeps, type JudgeResult, type JudgeConfig } from './judge';
export { createScoreStore, type ScoreStore, type SessionScore } from './store';
export { loadRubric, RUBRICS_DIR, type Rubric } from './rubric';
export {
  parseVerdict,
  verdictSchema,
  overallOf,
  CRITERIA,
  VerdictError,
  type Verdict,
  type Criterion,
  type CriterionScore,
} from './schema';
export { JUDGE_PROMPT_MARKER, judgeSystemPrompt, formatForJudge } from './prompt';
