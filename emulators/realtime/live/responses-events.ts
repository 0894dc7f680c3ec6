import { newId } from '../protocol';

type Json = Record<string, unknown>;

/**
 * Streaming Responses API events as a Live session wraps them in `response.event`. Lifecycle snapshots carry no
 * input, instructions, tools or output (the `openai` package: "Response lifecycle snapshots omit input and clear
 * instructions, tools, and output"); the content comes in the granular events.
 */
export class ResponseStream {
  readonly id = newId('resp');
  private seq = 0;
  private readonly events: Json[] = [];

  constructor(
    private readonly model: string,
    private readonly createdAt = Math.floor(Date.now() / 1000),
  ) {
    this.push('response.created', { response: this.snapshot('in_progress') });
  }

  private snapshot(status: string, usage: Json | null = null): Json {
    return {
      id: this.id,
      object: 'response',
      created_at: this.createdAt,
      status,
      model: this.model,
      instructions: null,
      tools: [],
      output: [],
      usage,
    };
  }

  private push(type: string, body: Json): void {
    this.events.push({ type, sequence_number: this.seq++, ...body });
  }

  functionCall(callId: string, name: string, args: string): this {
    const item = {
      type: 'function_call',
      id: newId('fc'),
      call_id: callId,
      name,
      arguments: '',
      status: 'in_progress',
    };
    this.push('response.output_item.added', { output_index: 0, item });
    for (let i = 0; i < args.length; i += 16)
      this.push('response.function_call_arguments.delta', {
        item_id: item.id,
        output_index: 0,
        delta: args.slice(i, i + 16),
      });
    this.push('response.function_call_arguments.done', { item_id: item.id, output_index: 0, name, arguments: args });
    this.push('response.output_item.done', {
      output_index: 0,
      item: { ...item, arguments: args, status: 'completed' },
    });
    return this;
  }

  message(text: string): this {
    const item = { type: 'message', id: newId('msg'), role: 'assistant', status: 'in_progress', content: [] };
    const ids = { item_id: item.id, output_index: 0, content_index: 0 };
    this.push('response.output_item.added', { output_index: 0, item });
    this.push('response.content_part.added', { ...ids, part: { type: 'output_text', text: '', annotations: [] } });
    for (const w of text.match(/\S+\s*/g) ?? [text])
      this.push('response.output_text.delta', { ...ids, delta: w, logprobs: [] });
    this.push('response.output_text.done', { ...ids, text, logprobs: [] });
    const part = { type: 'output_text', text, annotations: [] };
    this.push('response.content_part.done', { ...ids, part });
    this.push('response.output_item.done', {
      output_index: 0,
      item: { ...item, status: 'completed', content: [part] },
    });
    return this;
  }

  /** Closes the stream with token usage from lengths (4 characters a token), as the Realtime profiles count. */
  complete(inputChars: number, outputChars: number): Json[] {
    const input_tokens = Math.ceil(inputChars / 4);
    const output_tokens = Math.ceil(outputChars / 4);
    this.push('response.completed', {
      response: this.snapshot('completed', {
        input_tokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: input_tokens + output_tokens,
      }),
    });
    return this.events;
  }
}
