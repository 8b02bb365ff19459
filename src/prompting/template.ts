import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import Mustache from 'mustache';
import type { ChatMessage } from '../models/types.ts';
import { InputError } from '../core/index.ts';

/** Values are inserted verbatim (no HTML escaping); objects and arrays as JSON. */
function plain(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** Render a mustache template (`{{field}}`, `{{email.subject}}`, sections) with HTML escaping disabled. */
export function renderText(template: string, view: Record<string, unknown>): string {
  return Mustache.render(template, view, undefined, { escape: plain });
}

/** Throws an InputError naming `where` when the template does not parse. */
export function checkTemplate(template: string, where: string): void {
  try {
    Mustache.parse(template);
  } catch (e) {
    throw new InputError(where, `template error: ${(e as Error).message}`);
  }
}

/** Variable names a template refers to (top-level names of `{{a.b}}` are `a.b`). */
export function templateVariables(template: string): string[] {
  const out = new Set<string>();
  const walk = (tokens: any[]) => {
    for (const t of tokens) {
      if (t[0] === 'name' || t[0] === '&' || t[0] === '#' || t[0] === '^') out.add(t[1]);
      if (Array.isArray(t[4])) walk(t[4]);
    }
  };
  walk(Mustache.parse(template) as any[]);
  return [...out];
}

const INCLUDE_RE = /\{\{>\s*([^}]+?)\s*\}\}/g;

/**
 * Inline `{{> path}}` includes (paths relative to `baseDir`, recursively, at most 10 deep).
 * Done when the prompt is loaded, so the content hash covers the included text.
 */
export function resolveIncludes(text: string, baseDir: string, where: string, depth = 0): string {
  if (depth > 10) throw new InputError(where, 'includes nested more than 10 deep (a cycle?)');
  return text.replace(INCLUDE_RE, (_m, p: string) => {
    const file = isAbsolute(p) ? p : resolve(baseDir, p);
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InputError(where, `cannot read include "${p}" (${file}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return resolveIncludes(content.replace(/\r\n/g, '\n').replace(/\n$/, ''), dirname(file), `${file}`, depth + 1);
  });
}

export function resolveMessageIncludes(messages: ChatMessage[], baseDir: string, where: string): ChatMessage[] {
  return messages.map((m, i) => {
    const content = resolveIncludes(m.content, baseDir, `${where}[${i}].content`);
    checkTemplate(content, `${where}[${i}].content`);
    return { role: m.role, content };
  });
}
