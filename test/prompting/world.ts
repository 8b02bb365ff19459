// A scripted world with real signal for prompt search: labels alpha (the note names a colour) and
// beta (it names an animal). The scripted model answers correctly when the system instruction says
// "colors mean alpha", or when a demonstration with the same key word is present (it copies that
// demonstration's answer); otherwise it says "beta". Zero-shot accuracy is therefore about 50%.
import type { ChatRequest } from '../../src/models/types.ts';
import type { Example } from '../../src/task/types.ts';
import { PROPOSER_SYSTEM } from '../../src/prompting/index.ts';

export const COLORS = ['red', 'blue', 'green', 'yellow'];
export const ANIMALS = ['cat', 'dog', 'horse', 'eagle'];
const PLACES = ['river', 'market', 'school', 'harbor', 'garden', 'station', 'bridge'];
export const KEY = 'Colors mean alpha';

export function worldExamples(n: number, prefix: string, marker = ''): Example[] {
  const out: Example[] = [];
  for (let i = 0; i < n; i++) {
    const alpha = i % 2 === 0;
    const words = alpha ? COLORS : ANIMALS;
    const w = words[Math.floor(i / 2) % words.length];
    const place = PLACES[(i * 5 + prefix.length) % PLACES.length];
    out.push({
      id: `${prefix}${i}`,
      input: { text: `Note ${prefix}${i}: the ${w} one waited near the ${place}${marker}` },
      expected: alpha ? 'alpha' : 'beta',
    });
  }
  return out;
}

function keyWord(text: string): string | undefined {
  return [...COLORS, ...ANIMALS].find((w) => new RegExp(`\\b${w}\\b`).test(text));
}

type Msg = { role: string; content: string };

export function respondWorld(req: { messages: Msg[] }): string {
  const msgs = req.messages;
  const sys = msgs
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n');
  if (sys.includes(PROPOSER_SYSTEM)) return respondProposer(msgs[msgs.length - 1].content);
  const lastUser = msgs.map((m) => m.role).lastIndexOf('user');
  const q = msgs[lastUser]?.content ?? '';
  const w = keyWord(q);
  if (new RegExp(KEY, 'i').test(sys) && w) return COLORS.includes(w) ? 'alpha' : 'beta';
  let copied: string | undefined;
  for (let i = 0; i + 1 < lastUser; i++) {
    if (msgs[i].role === 'user' && msgs[i + 1].role === 'assistant' && w && keyWord(msgs[i].content) === w) copied = msgs[i + 1].content;
  }
  return copied ?? 'beta';
}

/** The scripted proposer: only when it is shown a failure on a colour note does it find the rule. */
export function respondProposer(prompt: string): string {
  const n = Number(/Write (\d+) new/.exec(prompt)?.[1] ?? 3);
  const sawColorFailure = prompt
    .split('\n')
    .some((l, i, a) => COLORS.some((c) => l.includes(` ${c} `)) && a.slice(i, i + 3).some((x) => x === 'Expected: alpha'));
  const out = ['Read the note carefully and answer.', 'Decide which label fits the note best.', 'Answer with the most likely label.'];
  if (sawColorFailure) out.splice(1, 0, `${KEY}: if the note names a colour, answer alpha; if it names an animal, answer beta.`);
  return JSON.stringify(out.slice(0, n));
}

export function respondWorldChat(req: ChatRequest): string {
  return respondWorld(req);
}
