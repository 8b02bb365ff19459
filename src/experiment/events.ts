import type { Spent } from '../prompting/types.ts';

/** Streamed by the runner; the CLI turns them into progress bars, lines or nothing. Never per example. */
export type RunEvent =
  | {
      type: 'run-start';
      runId: string;
      experiment: string;
      resumed: boolean;
      arms: string[];
      sizes: { train: number; dev: number; test: number };
    }
  | { type: 'arm-prepare'; arm: string; kind: string }
  | { type: 'arm-prepared'; arm: string; restored: boolean; spent: Spent }
  | { type: 'arm-start'; arm: string; total: number; done: number }
  | {
      type: 'progress';
      arm: string;
      done: number;
      total: number;
      /** results already stored when this session started the arm (for rates) */
      startDone: number;
      calls: number;
      cached: number;
      errors: number;
      costUsd: number;
      elapsedMs: number;
    }
  | {
      type: 'arm-end';
      arm: string;
      status: 'done' | 'failed' | 'partial';
      error?: string;
      done: number;
      total: number;
      cached: number;
      errors: number;
      costUsd: number;
      elapsedMs: number;
    }
  | { type: 'log'; arm?: string; message: string }
  | { type: 'warning'; message: string }
  | { type: 'run-end'; runId: string };
