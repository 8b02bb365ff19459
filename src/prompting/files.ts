import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ChatMessage } from '../models/types.ts';
import { InputError } from '../core/index.ts';
import { formatSchema, type FormatSpec } from './format.ts';
import { promptHash, TemplateProgram, type Demo, type RequestOptions } from './program.ts';
import { resolveMessageIncludes } from './template.ts';
import type { FrozenPrompt, Spent } from './types.ts';

export const messageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});

export const demoSchema = z.strictObject({
  id: z.string().optional(),
  input: z.record(z.string(), z.unknown()),
  expected: z.string(),
  output: z.string().optional(),
});

const spentSchema = z.object({ calls: z.number(), tokensIn: z.number(), tokensOut: z.number(), costUsd: z.number(), ms: z.number() });

const promptDocSchema = z.strictObject({
  messages: z.array(messageSchema).min(1).optional(),
  system: z.string().optional(),
  user: z.string().optional(),
  demos: z.array(demoSchema).optional(),
  format: formatSchema.optional(),
  description: z.string().optional(),
  name: z.string().optional(),
});

const frozenSchema = z.object({
  kind: z.literal('tunelab.frozen-prompt'),
  version: z.literal(1),
  hash: z.string(),
  messages: z.array(messageSchema).min(1),
  demos: z.array(demoSchema),
  devScore: z.number().optional(),
  spent: spentSchema.optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

/** A loaded prompt file: messages (includes already inlined), optional demos and format. */
export interface PromptFile {
  file: string;
  messages: ChatMessage[];
  demos?: Demo[];
  format?: FormatSpec;
  request?: RequestOptions;
  /** present when the file is a frozen prompt */
  frozen?: FrozenPrompt;
  /** content hash of messages + demos + format (as written in the file; see TemplateProgram.hash for the final one) */
  hash: string;
}

function zodWhere(file: string, err: z.ZodError): InputError {
  const issue = err.issues[0];
  const path = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  return new InputError(path ? `${file}: ${path}` : file, issue.message);
}

const ROLE_HEADING = /^#{1,6}[ \t]*(system|user|assistant)[ \t]*$/i;

/** Markdown prompt: optional front matter (YAML between --- lines), then sections headed `# system`, `# user`, `# assistant`. */
function parseMarkdown(text: string, file: string): { front: Record<string, unknown>; messages: ChatMessage[] } {
  let body = text.replace(/\r\n/g, '\n');
  let front: Record<string, unknown> = {};
  const fm = /^---[ \t]*\n([\s\S]*?)\n---[ \t]*(?:\n|$)/.exec(body);
  if (fm) {
    let parsed: unknown;
    try {
      parsed = parseYaml(fm[1]);
    } catch (e) {
      throw new InputError(`${file}: front matter`, (e as Error).message.split('\n')[0]);
    }
    if (parsed != null && (typeof parsed !== 'object' || Array.isArray(parsed)))
      throw new InputError(`${file}: front matter`, 'expected a mapping');
    front = (parsed ?? {}) as Record<string, unknown>;
    body = body.slice(fm[0].length);
  }
  const lines = body.split('\n');
  const messages: ChatMessage[] = [];
  let cur: { role: ChatMessage['role']; lines: string[] } | undefined;
  const pre: string[] = [];
  let inFence = false;
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const m = inFence ? null : ROLE_HEADING.exec(line);
    if (m) {
      if (cur) messages.push({ role: cur.role, content: cur.lines.join('\n').trim() });
      cur = { role: m[1].toLowerCase() as ChatMessage['role'], lines: [] };
    } else if (cur) cur.lines.push(line);
    else pre.push(line);
  }
  if (cur) messages.push({ role: cur.role, content: cur.lines.join('\n').trim() });
  const preText = pre.join('\n').trim();
  if (preText) {
    // text before any role heading: the user turn when there are no headings, else a leading system message
    if (messages.length === 0) messages.push({ role: 'user', content: preText });
    else messages.unshift({ role: 'system', content: preText });
  }
  return { front, messages };
}

/** Load a prompt file: Markdown (.md) with front matter, YAML (.yaml/.yml), or JSON (a frozen prompt or the YAML shape). */
export function loadPromptFile(path: string, baseDir = process.cwd()): PromptFile {
  const file = resolve(baseDir, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(path, `cannot read prompt file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const ext = extname(file).toLowerCase();
  let doc: Record<string, unknown>;
  if (ext === '.md' || ext === '.markdown' || ext === '.txt') {
    const { front, messages } = parseMarkdown(text, file);
    doc = { ...front };
    if (messages.length) {
      if (doc.messages !== undefined)
        throw new InputError(file, 'give messages either in the front matter or as # role sections, not both');
      doc.messages = messages;
    }
  } else {
    let parsed: unknown;
    try {
      parsed = ext === '.json' ? JSON.parse(text) : parseYaml(text);
    } catch (e) {
      throw new InputError(file, `not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InputError(file, 'expected a mapping with messages');
    doc = parsed as Record<string, unknown>;
  }
  if (doc.kind === 'tunelab.frozen-prompt') {
    const r = frozenSchema.safeParse(doc);
    if (!r.success) throw zodWhere(file, r.error);
    const fp = r.data as FrozenPrompt;
    const spec = frozenToSpec(fp, file);
    return {
      file,
      messages: spec.messages,
      demos: spec.demos,
      format: spec.format,
      request: spec.request,
      frozen: fp,
      hash: promptHash(spec.messages, spec.demos, spec.format ?? { type: 'text' }),
    };
  }
  const r = promptDocSchema.safeParse(doc);
  if (!r.success) throw zodWhere(file, r.error);
  const d = r.data;
  let messages: ChatMessage[] = d.messages ?? [];
  if (!d.messages) {
    if (d.system !== undefined) messages.push({ role: 'system', content: d.system });
    if (d.user !== undefined) messages.push({ role: 'user', content: d.user });
  }
  if (!messages.length) throw new InputError(file, 'no messages (give messages:, system:/user:, or # system / # user sections)');
  if (!messages.some((m) => m.role === 'user')) throw new InputError(file, 'no user message (the turn that carries the example)');
  messages = resolveMessageIncludes(messages, dirname(file), `${file}: messages`);
  const demos = d.demos as Demo[] | undefined;
  return { file, messages, demos, format: d.format, hash: promptHash(messages, demos ?? [], d.format ?? { type: 'text' }) };
}

function frozenToSpec(
  fp: FrozenPrompt,
  where: string,
): { messages: ChatMessage[]; demos: Demo[]; format?: FormatSpec; request?: RequestOptions } {
  const meta = fp.meta ?? {};
  let format: FormatSpec | undefined;
  if (meta.format !== undefined) {
    const r = formatSchema.safeParse(meta.format);
    if (!r.success) throw zodWhere(`${where}: meta.format`, r.error);
    format = r.data;
  }
  return { messages: fp.messages, demos: fp.demos as Demo[], format, request: meta.request as RequestOptions | undefined };
}

/** Freeze a program into the exportable artifact (static demos only: dynamic selectors are resolved per example and are not frozen). */
export function freezeProgram(
  program: TemplateProgram,
  extra: { devScore?: number; spent?: Spent; meta?: Record<string, unknown> } = {},
): FrozenPrompt {
  const fp: FrozenPrompt = {
    kind: 'tunelab.frozen-prompt',
    version: 1,
    hash: program.hash,
    messages: program.messages,
    demos: program.demos.map((d) => {
      const o: Demo = { input: d.input, expected: d.expected };
      if (d.id !== undefined) o.id = d.id;
      if (d.output !== undefined) o.output = d.output;
      return o;
    }),
    meta: {
      format: program.formatSpec,
      ...(Object.keys(program.request).length ? { request: program.request } : {}),
      ...(program.labels ? { labels: program.labels } : {}),
      ...(extra.meta ?? {}),
    },
  };
  if (extra.devScore !== undefined) fp.devScore = extra.devScore;
  if (extra.spent !== undefined) fp.spent = extra.spent;
  return fp;
}

/** The program a frozen prompt describes (same hash as the program it was frozen from). */
export function programFromFrozen(fp: FrozenPrompt, overrides: { request?: RequestOptions; labels?: string[] } = {}): TemplateProgram {
  const spec = frozenToSpec(fp, 'frozen prompt');
  const labels = overrides.labels ?? (Array.isArray(fp.meta?.labels) ? (fp.meta!.labels as string[]) : undefined);
  return new TemplateProgram({
    messages: spec.messages,
    demos: spec.demos,
    format: spec.format,
    labels,
    request: { ...(spec.request ?? {}), ...(overrides.request ?? {}) },
  });
}

export function writeFrozenPrompt(path: string, fp: FrozenPrompt): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(fp, null, 2) + '\n');
}

export function readFrozenPrompt(path: string, baseDir = process.cwd()): FrozenPrompt {
  const f = loadPromptFile(path, baseDir);
  if (!f.frozen) throw new InputError(f.file, 'not a frozen prompt (expected "kind": "tunelab.frozen-prompt")');
  return f.frozen;
}
