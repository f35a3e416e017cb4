/** `items` turned left by `by` places: round r of an interleaved benchmark starts with item r. */
export function rotated(items, by) {
  const at = by % items.length;
  return [...items.slice(at), ...items.slice(0, at)];
}
