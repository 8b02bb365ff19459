import type { ChatMessage, ChatRequest } from '../models/types.ts';
import type { Example } from '../task/types.ts';
import { InputError } from '../core/index.ts';
import { createFormat, normalizeFormat, type FormatSpec, type OutputFormat } from './format.ts';
import { renderText } from './template.ts';
import type { PromptProgram } from './types.ts';
import { canonicalJson, sha256Hex } from '../core/index.ts';

/** A demonstration: an example's input and expected answer; `output` is a model's own accepted output (bootstrapped demos). */
export interface Demo {
  id?: string;
  input: Record<string, unknown>;
  expected: string;
  output?: string;
}

/** Picks demonstrations for one example at render time (BM25 or embedding neighbours and the like). */
export interface DemoSelector {
  /** async for selectors that embed the example first */
  select(example: Example): Demo[] | Promise<Demo[]>;
  /** canonical description, part of the prompt hash */
  describe(): unknown;
}

export interface RequestOptions {
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
}

export interface ProgramSpec {
  messages: ChatMessage[];
  /** static demonstrations */
  demos?: Demo[];
  format?: FormatSpec;
  /** label set for classification: `{{_labels}}` in templates, default label format */
  labels?: string[];
  /** dynamic demonstrations, chosen per example (after the static ones) */
  selector?: DemoSelector;
  request?: RequestOptions;
}

export function demoOf(e: Example, output?: string): Demo {
  const d: Demo = { id: e.id, input: e.input, expected: e.expected };
  if (output !== undefined) d.output = output;
  return d;
}

/** The canonical content of a prompt (what the hash covers). */
export function promptContent(messages: ChatMessage[], demos: Demo[], format: FormatSpec, selector?: unknown): unknown {
  return {
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    demos: demos.map((d) => ({ input: d.input, expected: d.expected, output: d.output })),
    format,
    ...(selector !== undefined ? { selector } : {}),
  };
}

export function promptHash(messages: ChatMessage[], demos: Demo[], format: FormatSpec, selector?: unknown): string {
  return sha256Hex(canonicalJson(promptContent(messages, demos, format, selector)));
}

/** A PromptProgram over a chat template: renders messages, demonstrations and the format instruction; parses outputs. */
export class TemplateProgram implements PromptProgram {
  readonly hash: string;
  readonly messages: ChatMessage[];
  readonly demos: Demo[];
  readonly formatSpec: FormatSpec;
  readonly format: OutputFormat;
  readonly labels?: string[];
  readonly selector?: DemoSelector;
  readonly request: RequestOptions;
  private readonly finalUser: number;

  constructor(spec: ProgramSpec) {
    if (!spec.messages.length) throw new InputError('messages', 'a prompt needs at least one message');
    this.messages = spec.messages.map((m) => ({ role: m.role, content: m.content }));
    this.finalUser = this.messages.map((m) => m.role).lastIndexOf('user');
    if (this.finalUser < 0) throw new InputError('messages', 'a prompt needs a user message (the turn that carries the example)');
    this.demos = (spec.demos ?? []).map((d) => ({ ...d }));
    this.labels = spec.labels;
    this.formatSpec = normalizeFormat(spec.format, spec.labels);
    this.format = createFormat(this.formatSpec);
    this.selector = spec.selector;
    this.request = { ...(spec.request ?? {}) };
    this.hash = promptHash(this.messages, this.demos, this.formatSpec, this.selector?.describe());
  }

  /** A copy with some parts replaced (the hash is recomputed). */
  with(patch: Partial<ProgramSpec>): TemplateProgram {
    return new TemplateProgram({
      messages: this.messages,
      demos: this.demos,
      format: this.formatSpec,
      labels: this.labels,
      selector: this.selector,
      request: this.request,
      ...patch,
    });
  }

  /** The instruction: the first system message's content ('' when there is none). */
  get instruction(): string {
    return this.messages.find((m) => m.role === 'system')?.content ?? '';
  }

  /** A copy whose (first) system message is `text` (one is added in front when there is none). */
  withInstruction(text: string): TemplateProgram {
    const i = this.messages.findIndex((m) => m.role === 'system');
    const messages = this.messages.slice();
    if (i >= 0) messages[i] = { role: 'system', content: text };
    else messages.unshift({ role: 'system', content: text });
    return this.with({ messages });
  }

  private view(input: Record<string, unknown>, id?: string): Record<string, unknown> {
    return { ...input, _labels: this.labels?.join(', ') ?? '', _id: id ?? '' };
  }

  /** The user/assistant pair for one demonstration. */
  renderDemo(d: Demo): ChatMessage[] {
    return [
      { role: 'user', content: renderText(this.messages[this.finalUser].content, this.view(d.input, d.id)) },
      { role: 'assistant', content: this.format.demoAnswer(d.expected, d.output) },
    ];
  }

  /** Demonstrations used for one example: the static ones, then the selector's. */
  demosFor(example: Example): Demo[] | Promise<Demo[]> {
    if (!this.selector) return this.demos;
    const picked = this.selector.select(example);
    return picked instanceof Promise ? picked.then((d) => [...this.demos, ...d]) : [...this.demos, ...picked];
  }

  /** Synchronous unless the selector is (embedding neighbours). */
  render(example: Example): ChatRequest | Promise<ChatRequest> {
    const demos = this.demosFor(example);
    return demos instanceof Promise ? demos.then((d) => this.renderWith(example, d)) : this.renderWith(example, demos);
  }

  renderWith(example: Example, demos: Demo[]): ChatRequest {
    const view = this.view(example.input, example.id);
    const instr = this.format.instruction();
    const out: ChatMessage[] = [];
    let instructed = !instr;
    this.messages.forEach((m, i) => {
      if (i === this.finalUser) for (const d of demos) out.push(...this.renderDemo(d));
      let content = renderText(m.content, view);
      if (!instructed && m.role === 'system') {
        content = content ? `${content}\n\n${instr}` : instr;
        instructed = true;
      }
      out.push({ role: m.role, content });
    });
    if (!instructed) out.unshift({ role: 'system', content: instr });
    const req: ChatRequest = { messages: out };
    const r = this.request;
    if (r.temperature !== undefined) req.temperature = r.temperature;
    if (r.maxTokens !== undefined) req.maxTokens = r.maxTokens;
    if (r.topP !== undefined) req.topP = r.topP;
    if (r.stop !== undefined) req.stop = r.stop;
    if (r.seed !== undefined) req.seed = r.seed;
    // a label answer without reasoning is a closed choice: models that score candidates pick among the labels
    const f = this.formatSpec;
    if (f.type === 'label' && !f.reasoning && f.choices !== false && f.labels?.length) req.choices = [...f.labels];
    return req;
  }

  parse(output: string): string {
    return this.format.parse(output);
  }

  describe(): unknown {
    return {
      hash: this.hash,
      messages: this.messages,
      demos: this.demos.map((d) => d.id ?? d.input),
      format: this.formatSpec,
      ...(this.selector ? { selector: this.selector.describe() } : {}),
    };
  }
}

function title(field: string): string {
  const last = field.split('.').pop() ?? field;
  const words = last
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The default template: an instruction (naming the labels for classification), then the input fields. */
export function defaultMessages(inputFields: string[], labels?: string[]): ChatMessage[] {
  const fields = inputFields.length ? inputFields : ['input'];
  const system = labels?.length
    ? `Classify the input into one of these labels: ${labels.join(', ')}.`
    : 'Complete the task for the input below.';
  const user = fields.length === 1 ? `${title(fields[0])}:\n{{${fields[0]}}}` : fields.map((f) => `${title(f)}: {{${f}}}`).join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}
