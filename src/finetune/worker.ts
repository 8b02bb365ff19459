// Training worker thread: runs one TrainJobSpec off the main event loop and posts TrainJobEvents.
// Message 'cancel' aborts between optimizer steps. The job's onnxruntime sessions are released before the thread
// ends (the thread's session cache is its own; nothing else would release them).
import { parentPort, workerData } from 'node:worker_threads';
import { runTrainJob, type TrainJobSpec } from './train-job.ts';
import { releaseSessions } from '../engine/index.ts';

const port = parentPort!;
const ac = new AbortController();
port.on('message', (m) => {
  if (m === 'cancel') ac.abort();
});
const spec = workerData as TrainJobSpec;
try {
  const summary = await runTrainJob(spec, (e) => port.postMessage(e), ac.signal);
  await releaseSessions();
  port.postMessage(summary ? { type: 'done', summary } : { type: 'cancelled' });
} catch (e) {
  await releaseSessions().catch(() => {});
  port.postMessage({ type: 'error', message: (e as Error)?.message ?? String(e) });
}
port.close();
