export interface McNemarResult { b: number; c: number; p: number }
export function binomialTwoSided(k: number, n: number): number { throw new Error('not implemented'); }
export function mcnemarExact(b: number, c: number): number { throw new Error('not implemented'); }
export function mcnemar(a: ArrayLike<boolean | number>, b: ArrayLike<boolean | number>): McNemarResult { throw new Error('not implemented'); }
