export { startServer, newId, type ServerOptions, type RunningServer, type StreamingChatModel } from './http.ts';
export { JobManager, type JobManagerOptions } from './jobs.ts';
export { ApiError } from './errors.ts';
export {
  dirServerStore,
  storeBackedServerStore,
  type JobsFilesStore,
  type ServerStore,
  type FileRecord,
  type JobRecord,
  type CheckpointRecord,
} from './store.ts';
