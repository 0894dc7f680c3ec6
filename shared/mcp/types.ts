import type { RealtimeFunctionTool, RealtimeToolsConfigUnion } from 'openai/resources/realtime/realtime';
import type { AgentDefinition } from '../agents/schema';
import type { SessionCaller } from './identity';

export interface ToolCall {
  /** The Realtime `call_id`: a tool runs at most once per call id. */
  callId: string;
  name: string;
  /** JSON text exactly as the model produced it (may be invalid). */
  arguments: string;
}

export interface ToolResult {
  /** What goes back as `function_call_output.output`: always a string the model can use, never a throw. */
  output: string;
  isError: boolean;
  durationMs: number;
}

/** The worker's view of MCP: which tools an agent gets, and running one. Implemented in shared/mcp. */
export interface ToolGateway {
  /** Realtime `tools` for the session config (function tools, and native `mcp` tools for public servers). */
  toolsFor(agent: AgentDefinition): Promise<(RealtimeFunctionTool | RealtimeToolsConfigUnion)[]>;
  /** `caller`: the session's caller (identity sent to the servers, tool-call budget). */
  run(agent: AgentDefinition, call: ToolCall, signal?: AbortSignal, caller?: SessionCaller): Promise<ToolResult>;
  /**
   * True when running the call a second time can do no harm: the server annotates the tool `readOnlyHint` or
   * `idempotentHint`, or the agent lists it in `retrySafeTools`. Absent or false: the call has side effects.
   */
  retrySafe?(agent: AgentDefinition, toolName: string): Promise<boolean>;
}
