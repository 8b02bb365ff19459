/** Approximate token count: characters / 4, rounded up. */
export function approxTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
