import type { ChatModel, ChatRequest, ChatResponse, CompleteOptions } from '../models/types.ts';
import type { EmbeddingSelector } from './select.ts';
import type { TemplateProgram } from './program.ts';

/**
 * Wraps a ChatModel to insert embedding-selected demonstrations before the final user turn of each
 * request (PromptProgram.render is synchronous, embeddings are not).
 */
export class DynamicDemoModel implements ChatModel {
  readonly id: string;
  constructor(
    readonly inner: ChatModel,
    private selector: EmbeddingSelector,
    private program: TemplateProgram,
  ) {
    this.id = inner.id;
    if (inner.embed) this.embed = (t: string[]) => inner.embed!(t);
    if (inner.scoreCandidates)
      this.scoreCandidates = async (req: ChatRequest, cands: string[]) => inner.scoreCandidates!(await this.expand(req), cands);
  }
  /** the inner model's (a batched model stays recognisable to the runner) */
  get info() {
    return this.inner.info;
  }
  embed?: (texts: string[]) => Promise<number[][]>;
  scoreCandidates?: (request: ChatRequest, candidates: string[]) => Promise<number[]>;
  async expand(request: ChatRequest): Promise<ChatRequest> {
    const last = request.messages.map((m) => m.role).lastIndexOf('user');
    if (last < 0) return request;
    const demos = await this.selector.selectForText(request.messages[last].content);
    const messages = [
      ...request.messages.slice(0, last),
      ...demos.flatMap((d) => this.program.renderDemo(d)),
      ...request.messages.slice(last),
    ];
    return { ...request, messages };
  }
  async complete(request: ChatRequest, options?: CompleteOptions): Promise<ChatResponse> {
    return this.inner.complete(await this.expand(request), options);
  }
}
