import { createHash } from 'node:crypto';
import type { ChatMessage } from '../models/types.ts';
import type { PromptProgram } from '../prompting/types.ts';
import type { Example } from '../task/types.ts';
import { InputError } from '../core/index.ts';
import type { TrainingRecord } from './types.ts';

/**
 * Task examples → chat training records: the arm's prompt (rendered for the example) gives the
 * system/user turns, the expected output becomes the final assistant turn.
 */
export function toTrainingRecords(examples: Example[], prompt: PromptProgram): TrainingRecord[] {
  return examples.map((ex) => {
    const req = prompt.render(ex);
    if (req instanceof Promise) throw new Error('toTrainingRecords needs a prompt whose render is synchronous');
    const messages: ChatMessage[] = req.messages.map((m) => ({ role: m.role, content: m.content }));
    if (messages.length && messages[messages.length - 1].role === 'assistant') messages.pop();
    messages.push({ role: 'assistant', content: ex.expected });
    return { messages };
  });
}

/** A plain prompt program for fine-tuning data: optional system text, the input fields as the user turn. */
export function plainPrompt(inputFields: string[], system?: string): PromptProgram {
  const render = (ex: Example) => {
    const user =
      inputFields.length === 1
        ? String(ex.input[inputFields[0]] ?? '')
        : inputFields.map((f) => `${f}: ${String(ex.input[f] ?? '')}`).join('\n');
    const messages: ChatMessage[] = [];
    if (system) messages.push({ role: 'system', content: system });
    messages.push({ role: 'user', content: user });
    return { messages };
  };
  const hash = createHash('sha256').update(JSON.stringify({ inputFields, system })).digest('hex').slice(0, 16);
  return { hash, render, describe: () => ({ kind: 'plain', inputFields, system }) };
}

/** Hash of everything but the final assistant turn: two records with equal prompt hashes ask the same thing. */
export function promptHash(record: TrainingRecord): string {
  const msgs = record.messages[record.messages.length - 1]?.role === 'assistant' ? record.messages.slice(0, -1) : record.messages;
  return createHash('sha256')
    .update(JSON.stringify(msgs.map((m) => [m.role, m.content.trim()])))
    .digest('hex');
}

export function recordHash(record: TrainingRecord): string {
  return createHash('sha256')
    .update(JSON.stringify(record.messages.map((m) => [m.role, m.content.trim()])))
    .digest('hex');
}

/** The final assistant turn (the training target). */
export function targetOf(record: TrainingRecord): string | undefined {
  const last = record.messages[record.messages.length - 1];
  return last?.role === 'assistant' ? last.content : undefined;
}

const ROLES = new Set(['system', 'user', 'assistant']);

/** Parse OpenAI chat-format JSONL (`{"messages": [...]}` per line), naming file:line on bad input. */
export function parseJsonl(text: string, where = 'training file'): TrainingRecord[] {
  const out: TrainingRecord[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let obj: any;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new InputError(`${where}:${i + 1}`, `not valid JSON (${(e as Error).message})`);
    }
    if (!obj || !Array.isArray(obj.messages)) {
      if (obj && typeof obj.prompt === 'string' && typeof obj.completion === 'string') {
        out.push({
          messages: [
            { role: 'user', content: obj.prompt },
            { role: 'assistant', content: obj.completion },
          ],
        });
        return;
      }
      throw new InputError(`${where}:${i + 1}`, 'expected an object with a "messages" array (or "prompt" and "completion")');
    }
    const messages: ChatMessage[] = obj.messages.map((m: any, j: number) => {
      if (!m || !ROLES.has(m.role) || typeof m.content !== 'string') {
        throw new InputError(`${where}:${i + 1}`, `messages[${j}] needs role (system|user|assistant) and string content`);
      }
      return { role: m.role, content: m.content };
    });
    out.push({ messages });
  });
  return out;
}

export function toJsonl(records: TrainingRecord[]): string {
  return records.map((r) => JSON.stringify({ messages: r.messages })).join('\n') + (records.length ? '\n' : '');
}
