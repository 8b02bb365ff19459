// Training worker thread: runs one TrainJobSpec off the main event loop and posts TrainJobEvents.
// Message 'cancel' aborts between optimizer steps.
import { parentPort, workerData } from 'node:worker_threads';
import { runTrainJob, type TrainJobSpec } from './train-job.ts';

const port = parentPort!;
const ac = new AbortController();
port.on('message', (m) => {
  if (m === 'cancel') ac.abort();
});
const spec = workerData as TrainJobSpec;
try {
  const summary = await runTrainJob(spec, (e) => port.postMessage(e), ac.signal);
  port.postMessage(summary ? { type: 'done', summary } : { type: 'cancelled' });
} catch (e) {
  port.postMessage({ type: 'error', message: (e as Error)?.message ?? String(e) });
}
port.close();
