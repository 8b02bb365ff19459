// Config-time expansion of arms, so the runner, resume and the response cache treat every point as an ordinary arm:
//   curve:   [25, 50, 100, all] on a fine-tune arm → one arm per training-set size (nested seeded subsets: the
//            fine-tune arm's trainExamples takes a prefix of one seeded shuffle); on a prompt arm (`shots`) or a
//            fewshot arm (`k`) → one arm per shot count. Points are named `<arm>@<n>`; the point equal to the
//            arm's own setting keeps the arm's name.
//   repeat:  n → the arm plus n-1 `repeat` arms `<arm>#2`..`<arm>#n` (the repeat number enters each request as seed).
//   baselines: accuracy / macro-F1 tasks get `majority` and `classical` arms appended (`baselines: false`: none).
import { InputError } from '../core/index.ts';

export interface CurveSpec {
  /** the arm the curve was declared on */
  arm: string;
  axis: 'train' | 'shots';
  /** x = null: all of train */
  points: { arm: string; x: number | null }[];
}

export interface RepeatSpec {
  arm: string;
  members: string[];
}

export interface Expansion {
  arms: { name: string; kind: string; [k: string]: unknown }[];
  /** index of the config arm each expanded arm came from (for error messages) */
  sources: number[];
  curves: CurveSpec[];
  repeats: RepeatSpec[];
  /** names of the baseline arms added automatically */
  baselines: string[];
}

const CURVE_KEY: Record<string, { axis: 'train' | 'shots'; key: string }> = {
  finetune: { axis: 'train', key: 'trainExamples' },
  'finetune+prompt': { axis: 'train', key: 'trainExamples' },
  prompt: { axis: 'shots', key: 'shots' },
  fewshot: { axis: 'shots', key: 'k' },
};

type RawArm = { name: string; kind: string; [k: string]: unknown };

type Where = (path: PropertyKey[]) => string;

function curveValues(raw: unknown, axis: 'train' | 'shots', w: Where, i: number): (number | null)[] {
  let list = raw;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length !== 1 || (keys[0] !== 'train' && keys[0] !== 'shots'))
      throw new InputError(w(['arms', i, 'curve']), 'expected a list of sizes, or { train: [...] } / { shots: [...] }');
    if (keys[0] !== axis)
      throw new InputError(
        w(['arms', i, 'curve', keys[0]]),
        `this arm's curve is over ${axis === 'train' ? 'training-set sizes (train)' : 'shot counts (shots)'}`,
      );
    list = o[keys[0]];
  }
  if (!Array.isArray(list) || !list.length)
    throw new InputError(w(['arms', i, 'curve']), 'expected a non-empty list of sizes, e.g. [25, 50, 100, all]');
  const out: (number | null)[] = [];
  list.forEach((v, j) => {
    if (v === 'all' && axis === 'train') out.push(null);
    else if (typeof v === 'number' && Number.isInteger(v) && (axis === 'shots' ? v >= 0 : v >= 1)) out.push(v);
    else
      throw new InputError(
        w(['arms', i, 'curve', j]),
        `expected ${axis === 'train' ? 'a whole number ≥ 1 or "all"' : 'a whole number ≥ 0'}, got ${JSON.stringify(v)}`,
      );
  });
  if (new Set(out).size !== out.length) throw new InputError(w(['arms', i, 'curve']), 'sizes must be distinct');
  return out;
}

const defaultWhere: Where = (path) => path.map((p, k) => (typeof p === 'number' ? `[${p}]` : k ? `.${String(p)}` : String(p))).join('');

/** `where(path)` names a config path in errors (parseConfig passes one that adds the file and line). */
export function expandArms(arms: readonly RawArm[], opts: { metricType?: string; baselines?: boolean; where?: Where } = {}): Expansion {
  const w = opts.where ?? defaultWhere;
  const out: Expansion = { arms: [], sources: [], curves: [], repeats: [], baselines: [] };
  const push = (a: RawArm, src: number) => {
    out.arms.push(a);
    out.sources.push(src);
  };
  arms.forEach((arm, i) => {
    const { curve, repeat, ...rest } = arm as RawArm & { curve?: unknown; repeat?: unknown };
    if (curve !== undefined && repeat !== undefined)
      throw new InputError(w(['arms', i, 'repeat']), 'an arm takes curve or repeat, not both');
    if (curve !== undefined) {
      const spec = CURVE_KEY[arm.kind];
      if (!spec)
        throw new InputError(
          w(['arms', i, 'curve']),
          `curves are for prompt, fewshot, finetune and finetune+prompt arms, not '${arm.kind}'`,
        );
      const values = curveValues(curve, spec.axis, w, i);
      const own = (rest[spec.key] as number | undefined) ?? (spec.axis === 'train' ? null : 0);
      const points: CurveSpec['points'] = [];
      const all = values.includes(own) ? values : [...values, own];
      for (const v of all) {
        const name = v === own ? arm.name : `${arm.name}@${v ?? 'all'}`;
        const cfg: RawArm = { ...rest, name };
        if (v === null) delete cfg[spec.key];
        else cfg[spec.key] = v;
        push(cfg, i);
        points.push({ arm: name, x: v });
      }
      points.sort((a, b) => (a.x ?? Infinity) - (b.x ?? Infinity));
      out.curves.push({ arm: arm.name, axis: spec.axis, points });
      return;
    }
    if (repeat !== undefined) {
      if (typeof repeat !== 'number' || !Number.isInteger(repeat) || repeat < 1 || repeat > 100)
        throw new InputError(w(['arms', i, 'repeat']), `expected a whole number from 1 to 100, got ${JSON.stringify(repeat)}`);
      push(rest as RawArm, i);
      const members = [arm.name];
      for (let r = 2; r <= repeat; r++) {
        const name = `${arm.name}#${r}`;
        push({ name, kind: 'repeat', of: rest, index: r }, i);
        members.push(name);
      }
      if (repeat > 1) out.repeats.push({ arm: arm.name, members });
      return;
    }
    push(rest as RawArm, i);
  });
  const classification = opts.metricType === 'accuracy' || opts.metricType === 'macro-f1';
  if (classification && opts.baselines !== false) {
    const names = new Set(out.arms.map((a) => a.name));
    for (const kind of ['majority', 'classical']) {
      if (out.arms.some((a) => a.kind === kind)) continue;
      const name = names.has(kind) ? `baseline-${kind}` : kind;
      push({ name, kind }, -1);
      out.baselines.push(name);
    }
  }
  return out;
}
