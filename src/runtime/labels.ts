// Label maps compared by content: the API server keeps no key order, so two
// equal maps can serialise differently.

/** Whether two label maps hold the same keys and values, whatever their order. */
export function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const left = Object.entries(a ?? {});
  if (left.length !== Object.keys(b ?? {}).length) return false;
  return left.every(([key, value]) => Object.hasOwn(b ?? {}, key) && b?.[key] === value);
}
