// `tunelab runs`: list the runs in the store (read-only: works while a run writes it).
import { openForReading, listRunSummaries } from '../../view/data.ts';
import { locateStore } from '../store-path.ts';

export default async function runs(opts: { config?: string; store?: string; json?: boolean }): Promise<number> {
  const path = await locateStore(opts);
  const store = openForReading(path);
  try {
    const list = listRunSummaries(store);
    if (opts.json) {
      process.stdout.write(
        JSON.stringify(
          list.map((r) => ({
            id: r.id,
            experiment: r.experiment,
            status: r.status,
            createdAt: r.createdAt,
            finishedAt: r.finishedAt,
            arms: r.arms.map((a) => `${a.name}:${a.status}`),
            test: r.test,
            results: r.done,
          })),
        ) + '\n',
      );
      return 0;
    }
    if (!list.length) {
      process.stdout.write(`no runs in ${path}\n`);
      return 0;
    }
    const { fittedTable } = await import('../../report/table.ts');
    const rows = list.map((r) => [
      r.id,
      r.experiment,
      r.status,
      r.createdAt.replace('T', ' ').slice(0, 16),
      String(r.arms.length),
      `${r.done}/${r.total}`,
    ]);
    process.stdout.write(
      fittedTable(['run', 'experiment', 'status', 'created (UTC)', 'arms', 'results'], rows, { max: 100, shrink: [1, 0], right: [4, 5] }) +
        '\n',
    );
    return 0;
  } finally {
    store.close();
  }
}
