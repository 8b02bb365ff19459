// `tunelab runs`: list the runs in the store.
import { openRunStore } from '../../experiment/index.ts';
import { locateStore } from '../store-path.ts';

export default async function runs(opts: { config?: string; store?: string; json?: boolean }): Promise<number> {
  const path = await locateStore(opts);
  const store = openRunStore(path);
  try {
    const list = store.listRuns().map((r) => {
      const arms = store.listArms(r.id);
      const results = arms.reduce((s, a) => s + store.doneIds(r.id, a.name).size, 0);
      return {
        id: r.id,
        experiment: r.experiment,
        status: r.status,
        createdAt: new Date(r.createdAt).toISOString(),
        finishedAt: r.finishedAt ? new Date(r.finishedAt).toISOString() : undefined,
        arms: arms.map((a) => `${a.name}:${a.status}`),
        test: r.meta.sizes?.test ?? 0,
        results,
      };
    });
    if (opts.json) {
      process.stdout.write(JSON.stringify(list) + '\n');
      return 0;
    }
    if (!list.length) {
      process.stdout.write(`no runs in ${path}\n`);
      return 0;
    }
    const Table = (await import('cli-table3')).default;
    const t = new Table({ head: ['run', 'experiment', 'status', 'created', 'arms', 'results'], style: { head: [], border: [], compact: true } });
    for (const r of list) t.push([r.id, r.experiment, r.status, r.createdAt.replace('T', ' ').slice(0, 19), r.arms.join(' '), `${r.results}/${r.test * r.arms.length}`]);
    process.stdout.write(t.toString() + '\n');
    return 0;
  } finally {
    store.close();
  }
}
