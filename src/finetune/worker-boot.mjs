// Worker entry: registers tsx (workers do not take --import from execArgv on Node 20), then runs worker.ts.
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
