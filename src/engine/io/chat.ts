/** Chat templates (Jinja, from tokenizer_config.json) rendered with @huggingface/jinja. */
import { Template } from '@huggingface/jinja';
import { EngineIoError } from './errors.ts';

export interface ChatMessage {
  role: string;
  content: string;
  [extra: string]: unknown;
}

/** tokenizer_config.json as far as tunelab reads it (special tokens normalized to strings). */
export interface TokenizerConfig {
  chat_template?: string | Array<{ name: string; template: string }>;
  bos_token?: string | null;
  eos_token?: string | null;
  pad_token?: string | null;
  unk_token?: string | null;
  model_max_length?: number;
  add_bos_token?: boolean;
  add_eos_token?: boolean;
  tokenizer_class?: string;
  [extra: string]: unknown;
}

/** ChatML as SmolLM2 uses it, without a default system prompt: `<|im_start|>role\n...<|im_end|>\n`. */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Special tokens the default template uses. */
export const CHATML_TOKENS = ['<|im_start|>', '<|im_end|>'];

const compiled = new Map<string, Template>();
function template(src: string): Template {
  let t = compiled.get(src);
  if (!t) {
    try {
      t = new Template(src);
    } catch (e) {
      throw new EngineIoError('chat_template', `cannot parse: ${(e as Error).message}`);
    }
    if (compiled.size > 64) compiled.clear();
    compiled.set(src, t);
  }
  return t;
}

/** The template text a config names (the "default" entry of a list), or DEFAULT_CHAT_TEMPLATE. */
export function chatTemplateOf(config?: TokenizerConfig, name = 'default'): string {
  const ct = config?.chat_template;
  if (typeof ct === 'string') return ct;
  if (Array.isArray(ct)) {
    const hit = ct.find((x) => x.name === name) ?? ct[0];
    if (hit) return hit.template;
  }
  return DEFAULT_CHAT_TEMPLATE;
}

export interface ApplyChatTemplateOptions {
  /** append the assistant header (for generation) */
  addGenerationPrompt?: boolean;
  /** template text; default: the config's chat_template, else DEFAULT_CHAT_TEMPLATE */
  chatTemplate?: string;
  tokenizerConfig?: TokenizerConfig;
  /** more template variables (tools, documents, ...) */
  variables?: Record<string, unknown>;
}

export function applyChatTemplate(messages: ChatMessage[], options: ApplyChatTemplateOptions = {}): string {
  const src = options.chatTemplate ?? chatTemplateOf(options.tokenizerConfig);
  const cfg = options.tokenizerConfig ?? {};
  try {
    return template(src).render({
      bos_token: cfg.bos_token ?? '',
      eos_token: cfg.eos_token ?? '',
      pad_token: cfg.pad_token ?? '',
      unk_token: cfg.unk_token ?? '',
      // Qwen3-style templates: answer without a reasoning block (an empty one is rendered), as fine-tuning data has none
      enable_thinking: false,
      ...options.variables,
      messages,
      add_generation_prompt: !!options.addGenerationPrompt,
    });
  } catch (e) {
    if (e instanceof EngineIoError) throw e;
    throw new EngineIoError('chat_template', `render failed: ${(e as Error).message}`);
  }
}

/**
 * Render a conversation and locate each assistant turn in the text, for loss masking:
 * span i runs from the end of the prompt rendered with a generation prompt to the end of the
 * conversation rendered through that turn (so it includes the end-of-turn marker, e.g. `<|im_end|>\n`).
 * Needs a template whose renderings of prefixes are prefixes (ChatML, Llama, Zephyr, ... are).
 */
export function chatTemplateSpans(
  messages: ChatMessage[],
  options: Omit<ApplyChatTemplateOptions, 'addGenerationPrompt'> = {},
): { text: string; assistantSpans: Array<[number, number]> } {
  const text = applyChatTemplate(messages, options);
  const spans: Array<[number, number]> = [];
  messages.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    const before = applyChatTemplate(messages.slice(0, i), { ...options, addGenerationPrompt: true });
    const through = applyChatTemplate(messages.slice(0, i + 1), options);
    if (!text.startsWith(through) || !through.startsWith(before))
      throw new EngineIoError(
        'chat_template',
        `assistant turn ${i}: the template does not render prefixes as prefixes; cannot mask the loss`,
      );
    spans.push([before.length, through.length]);
  });
  return { text, assistantSpans: spans };
}
