// The generative ("noisy channel") objective for fine-tuning a small model on a classification task
// (Min et al. 2022, "Noisy Channel Language Model Prompting for Few-Shot Text Classification"; Ng & Jordan 2001 on
// generative classifiers with little data). Instead of learning P(label | text) from the one or two label tokens
// of each example, the model learns to write the example after its label, P(label, text) = P(label) · P(text | label),
// so every token of every training text carries signal. At test time the predicted label is the one under which the
// text is most likely: one candidate-scoring pass over the |labels| candidates "<label>\n<text>".
import type { ChatMessage, ChatModel, ChatRequest, ChatResponse } from '../../models/types.ts';
import { wrapModel } from '../../models/index.ts';
import type { TrainingRecord } from '../../finetune/index.ts';

/** The fixed instruction of a channel record (the label and the text are the assistant's turn). */
export const CHANNEL_SYSTEM = 'Write one example of the task: its label on the first line, then its text.';
const CHANNEL_USER = 'Example:';

/** Characters of the input text kept (the model's context is small; the same cut at training and at test). */
export const CHANNEL_MAX_CHARS = 1200;

/** The text a channel model reads: the content of the request's last user message. */
export function channelText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messages[i].content.slice(0, CHANNEL_MAX_CHARS);
  return '';
}

const prompt = (): ChatMessage[] => [
  { role: 'system', content: CHANNEL_SYSTEM },
  { role: 'user', content: CHANNEL_USER },
];

export const channelAnswer = (label: string, text: string): string => `${label}\n${text}`;

/** A channel training record from an example's rendered request (its last user message) and its label. */
export function channelRecord(messages: readonly ChatMessage[], label: string): TrainingRecord {
  return { messages: [...prompt(), { role: 'assistant', content: channelAnswer(label, channelText(messages)) }] };
}

/**
 * A model that answers a closed-choice request (request.choices: the labels) with the label under which the
 * request's text is most likely, scored by the fine-tuned channel model. Requests without choices go to the model.
 */
export function channelModel(inner: ChatModel): ChatModel {
  if (!inner.scoreCandidates) throw new Error(`${inner.id}: the channel objective needs a model that scores candidates`);
  const score = inner.scoreCandidates.bind(inner);
  return wrapModel(inner, {
    complete: async (req: ChatRequest, o): Promise<ChatResponse> => {
      if (!req.choices?.length) return inner.complete(req, o);
      const t0 = performance.now();
      const text = channelText(req.messages);
      const scores = await score(
        { messages: prompt() },
        req.choices.map((l) => channelAnswer(l, text)),
      );
      let best = 0;
      for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
      const tokens = Math.ceil(text.length / 4);
      return {
        text: req.choices[best],
        usage: { input: tokens * req.choices.length, output: 1 },
        latencyMs: performance.now() - t0,
        costUsd: 0,
      };
    },
  });
}
