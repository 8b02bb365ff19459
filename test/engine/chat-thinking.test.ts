// Qwen3-style chat templates read `enable_thinking`: tunelab renders with it false (the model answers at once, after
// an empty reasoning block), so the prompt at inference ends where the training target's span begins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChatTemplate, chatTemplateSpans } from '../../src/engine/index.ts';

const TEMPLATE =
  "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' }}" +
  "{% if m.role == 'assistant' %}{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}{{ m.content + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}" +
  "{% if enable_thinking is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}{% endif %}";

test('enable_thinking is false unless a caller says otherwise; the trained span is the answer alone', () => {
  const msgs = [{ role: 'user' as const, content: 'Label: good or bad? "fine"' }];
  const prompt = applyChatTemplate(msgs, { chatTemplate: TEMPLATE, addGenerationPrompt: true });
  assert.ok(prompt.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'), prompt);
  const thinking = applyChatTemplate(msgs, { chatTemplate: TEMPLATE, addGenerationPrompt: true, variables: { enable_thinking: true } });
  assert.ok(thinking.endsWith('<|im_start|>assistant\n'), thinking);
  const convo = [...msgs, { role: 'assistant' as const, content: 'good' }];
  const { text, assistantSpans } = chatTemplateSpans(convo, { chatTemplate: TEMPLATE });
  assert.equal(text.slice(...assistantSpans[0]), 'good<|im_end|>\n');
});
