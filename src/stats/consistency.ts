export interface ConsistencyResult { n: number; allAgree: number; meanPairwise: number; perExample: { allAgree: boolean; pairwise: number }[] }
export function consistency(outputs: readonly (readonly string[])[], normalize?: (s: string) => string): ConsistencyResult { throw new Error('not implemented'); }
