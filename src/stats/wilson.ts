export function normalQuantile(p: number): number { throw new Error('not implemented'); }
export function wilsonInterval(successes: number, n: number, level = 0.95): [number, number] { throw new Error('not implemented'); }
