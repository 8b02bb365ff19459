import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChatTemplate, chatTemplateSpans, DEFAULT_CHAT_TEMPLATE, EngineIoError } from '../../../src/engine/io/index.ts';

const msgs = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi!' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: 'Label: "great film"' },
];

// SmolLM2-Instruct's published template (tokenizer_config.json chat_template)
const SMOLLM2 =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
// TinyLlama-1.1B-Chat-v1.0's (Zephyr style)
const TINYLLAMA =
  "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

test('default ChatML template renders the expected string', () => {
  assert.equal(
    applyChatTemplate(msgs),
    '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nLabel: "great film"<|im_end|>\n',
  );
  assert.equal(
    applyChatTemplate(msgs.slice(1, 2), { addGenerationPrompt: true }),
    '<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n',
  );
  assert.equal(applyChatTemplate(msgs.slice(1, 2), { chatTemplate: DEFAULT_CHAT_TEMPLATE }), '<|im_start|>user\nHi!<|im_end|>\n');
});

test('published templates from tokenizer_config.json: SmolLM2 and TinyLlama', () => {
  assert.equal(
    applyChatTemplate(msgs.slice(1, 2), { tokenizerConfig: { chat_template: SMOLLM2 }, addGenerationPrompt: true }),
    '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n',
  );
  assert.equal(
    applyChatTemplate(msgs.slice(0, 3), { tokenizerConfig: { chat_template: TINYLLAMA, eos_token: '</s>' } }),
    '<|system|>\nBe brief.</s>\n<|user|>\nHi!</s>\n<|assistant|>\nHello.</s>\n',
  );
  assert.equal(
    applyChatTemplate(msgs.slice(1, 2), { tokenizerConfig: { chat_template: TINYLLAMA, eos_token: '</s>' }, addGenerationPrompt: true }),
    '<|user|>\nHi!</s>\n<|assistant|>\n',
  );
  // a list of named templates picks "default"
  assert.equal(
    applyChatTemplate(msgs.slice(1, 2), {
      tokenizerConfig: {
        chat_template: [
          { name: 'tool_use', template: 'X' },
          { name: 'default', template: '{{ messages[0].content }}' },
        ],
      },
    }),
    'Hi!',
  );
});

test('assistant spans cover the reply and its end-of-turn marker', () => {
  const { text, assistantSpans } = chatTemplateSpans(msgs.slice(0, 3));
  assert.equal(assistantSpans.length, 1);
  const [a, b] = assistantSpans[0];
  assert.equal(text.slice(a, b), 'Hello.<|im_end|>\n');
  assert.ok(text.slice(0, a).endsWith('<|im_start|>assistant\n'));
});

test('a broken template raises EngineIoError', () => {
  assert.throws(() => applyChatTemplate(msgs, { chatTemplate: '{% for m in messages %}' }), EngineIoError);
});
