import type { ChatModel } from '../models/types.ts';
import type { Scorer } from '../metrics/types.ts';
import type { PromptProgram, Spent } from '../prompting/types.ts';
import type { TrainingView } from '../task/types.ts';

/** What an arm produces and what evaluation consumes. */
export interface Predictor {
  model: ChatModel;
  prompt: PromptProgram;
  /** what it cost to prepare (optimizer calls, training time) */
  spent: Spent;
  /** training cost and time for fine-tuned arms, shown in the report */
  training?: { seconds: number; costUsd: number; modelId: string; details?: Record<string, unknown> };
  notes?: Record<string, unknown>;
  /**
   * JSON-serializable record of what prepare() produced (a frozen prompt, a fine-tuned model id...).
   * The runner stores it; on resume it hands it to `Arm.restore` instead of preparing again.
   */
  artifact?: unknown;
}

export interface ArmContext {
  /** train and dev only: arms never see the test split */
  data: TrainingView;
  scorer: Scorer;
  /**
   * resolve a model id from config (or a path such as local:...) to a ChatModel. `like` names a models[] id
   * whose settings (temperature, maxTokens, price, concurrency, ...) a model the arm made itself takes on:
   * fine-tuned weights run like their base.
   */
  model(id: string, options?: { like?: string }): ChatModel;
  seed: number;
  /** per-arm scratch folder under the run's output dir (fine-tuned weights, frozen prompts) */
  workDir: string;
  /** input field names from the task */
  inputFields: string[];
  /** label set for classification tasks */
  labels?: string[];
  log(message: string): void;
  signal?: AbortSignal;
  /** whether an id or input belongs to the test split (arms refuse demonstrations from test); the split itself stays out of reach */
  isTest?(e: { id?: string; input?: Record<string, unknown> }): boolean;
  /** on abort, cancel provider fine-tuning jobs instead of leaving them running (`tunelab run --cancel-jobs`) */
  cancelJobs?: boolean;
  /**
   * The state an earlier, interrupted prepare() of this arm saved with `save` (a job id, a finished
   * search round), or undefined. A resumed run prepares the arm again with it.
   */
  resume?: unknown;
  /** Save state for a later session to continue from (written to the store at once, JSON). */
  save?(state: unknown): void;
}

/** An arm is a recipe. */
export interface Arm {
  name: string;
  kind: string;
  prepare(ctx: ArmContext): Promise<Predictor>;
  /**
   * Optional: rebuild the predictor from the `artifact` a previous prepare() returned (a resumed run),
   * without repeating its calls or training. Arms without it are prepared again (their calls come from
   * the response cache).
   */
  restore?(ctx: ArmContext, artifact: unknown): Promise<Predictor>;
}
