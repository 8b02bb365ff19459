// bench/learn/diagnose: do the training path and the evaluation path agree on a fine-tuned model?
// For the records a fine-tune arm trained on (its train.jsonl / dev.jsonl), compare
//   train path: the chat template with assistant spans, tokenized piecewise as train-job.ts does (loss on the answer)
//   eval path:  LocalModel.complete with the labels as choices (the prompt arm's request: candidate scoring)
// and report accuracy by each, the token counts, how many records were cut to fit the context, and whether the
// prompt tokens of both paths are identical.
//
//   node --import tsx bench/learn/diagnose.ts --model <finetuned dir> --records <arm dir>/train.jsonl [--n 120]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chatTemplateOf, chatTemplateSpans, applyChatTemplate, loadHfModel, Generator } from '../../src/engine/index.ts';
import { openLocalModel } from '../../src/models/index.ts';

type Msg0 = { role: 'system' | 'user' | 'assistant'; content: string };
const { values: a } = parseArgs({
  options: { model: { type: 'string' }, records: { type: 'string' }, n: { type: 'string', default: '120' } },
});
if (!a.model || !a.records) throw new Error('--model DIR --records FILE.jsonl');
type Msg = Msg0;
const recs = readFileSync(a.records, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { messages: Msg[] });
const labels = [...new Set(recs.map((r) => r.messages.at(-1)!.content))].sort();
const sample = recs.slice(0, Number(a.n));
const m = loadHfModel(a.model);
const tok = m.tokenizer!;
const tc = m.tokenizerConfig;
const template = chatTemplateOf(tc);
const ctx = m.config.max_position_embeddings;
const gen = new Generator({ config: m.config, weights: m.weights });
const local = openLocalModel(a.model);

let okTrain = 0,
  okEval = 0,
  samePrompt = 0,
  over = 0,
  agree = 0;
const lens: number[] = [];
const evalCounts: Record<string, number> = {};
for (const r of sample) {
  const gold = r.messages.at(-1)!.content;
  const { text, assistantSpans } = chatTemplateSpans(r.messages, { chatTemplate: template, tokenizerConfig: tc });
  const [s] = assistantSpans.at(-1)!;
  // train path: prompt tokens and target tokens, piecewise as train-job.ts encodes them
  const promptIds = tok.encode(text.slice(0, s), { addSpecialTokens: false });
  lens.push(promptIds.length);
  if (promptIds.length + 4 > ctx) over++;
  const evalPrompt = applyChatTemplate(r.messages.slice(0, -1), { chatTemplate: template, tokenizerConfig: tc, addGenerationPrompt: true });
  const evalIds = tok.encode(evalPrompt, { addSpecialTokens: false });
  if (evalIds.length === promptIds.length && evalIds.every((x, i) => x === promptIds[i])) samePrompt++;
  // train-path scoring of each label as the span the trainer learns (label + end-of-turn + what follows)
  const cands = labels.map((l) => {
    const sp = chatTemplateSpans([...r.messages.slice(0, -1), { role: 'assistant', content: l }], {
      chatTemplate: template,
      tokenizerConfig: tc,
    });
    const [a0, b0] = sp.assistantSpans.at(-1)!;
    return tok.encode(sp.text.slice(a0, b0), { addSpecialTokens: false });
  });
  const p = promptIds.length + Math.max(...cands.map((c) => c.length)) > ctx ? promptIds.slice(-(ctx - 8)) : promptIds;
  const [sc] = await gen.scoreCandidates([p], cands, { shared: false });
  const bestTrain = labels[sc.reduce((bi, x, i) => (x.logprob > sc[bi].logprob ? i : bi), 0)];
  const res = await local.complete({ messages: r.messages.slice(0, -1), temperature: 0, maxTokens: 8, choices: labels });
  evalCounts[res.text] = (evalCounts[res.text] ?? 0) + 1;
  if (bestTrain === gold) okTrain++;
  if (res.text === gold) okEval++;
  if (res.text === bestTrain) agree++;
}
lens.sort((x, y) => x - y);
const n = sample.length;
console.log(
  JSON.stringify(
    {
      records: n,
      labels: labels.length,
      trainPathAcc: okTrain / n,
      evalPathAcc: okEval / n,
      agree: agree / n,
      identicalPromptTokens: samePrompt / n,
      promptTokens: { min: lens[0], median: lens[n >> 1], p90: lens[Math.floor(n * 0.9)], max: lens[n - 1] },
      overContext: over,
      context: ctx,
      evalAnswers: evalCounts,
    },
    null,
    1,
  ),
);
