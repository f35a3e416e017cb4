// How wide text is in a terminal, for the console exporter's fixed columns: East Asian wide characters and emoji
// take two columns, combining marks none, and a character is never cut in half.

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'g');

/** `text` in exactly `width` terminal columns: cut with an ellipsis, or padded with spaces. */
export function fitColumns(text: string, width: number): string {
  // One line per span: a line break in a name or message would start a row of its own. Other control characters
  // (ESC starting a terminal sequence, BEL, DEL, C1) and bidirectional overrides come from names and messages that may
  // hold what a client sent: shown as `�`, they can neither move the cursor, erase rows nor reorder the line.
  let flat = /[\r\n]/.test(text) ? text.replace(/[\r\n]+/g, ' ') : text;
  if (UNPRINTABLE.test(flat)) flat = flat.replace(UNPRINTABLE_ALL, '\ufffd');
  // Most names are ASCII, one column per character.
  if (!/[^\x20-\x7e]/.test(flat)) {
    return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat.padEnd(width);
  }
  let used = 0;
  for (const char of flat) used += columns(char.codePointAt(0)!);
  if (used <= width) return flat + ' '.repeat(width - used);
  // Whole characters only (an emoji is two UTF-16 units, a wide character two columns), then the ellipsis.
  let kept = '';
  used = 0;
  for (const char of flat) {
    const wide = columns(char.codePointAt(0)!);
    if (used + wide > width - 1) break;
    kept += char;
    used += wide;
  }
  return `${kept}…${' '.repeat(width - 1 - used)}`;
}

/** Code points a terminal draws in no column of their own: combining marks, zero-width spaces and joiners, variation selectors. */
const ZERO_WIDTH: readonly (readonly [number, number])[] = [
  [0x0300, 0x036f],
  [0x1ab0, 0x1aff],
  [0x1dc0, 0x1dff],
  [0x200b, 0x200f],
  [0x20d0, 0x20ff],
  [0xfe00, 0xfe0f],
  [0xfe20, 0xfe2f],
  [0xe0100, 0xe01ef],
];
/** East Asian wide and fullwidth characters (Unicode's East_Asian_Width W and F) and emoji: two columns. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  // Emoji among the older symbols (⌚ ⏩ ☔ ♈ ⚡ ⚽ ⛔ ✅ ✊ ✨ ❌ ❓ ➕ ⬛ ⭐ ⭕), wide in East Asian Width too.
  [0x231a, 0x231b],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x267f, 0x267f],
  [0x2693, 0x2693],
  [0x26a1, 0x26a1],
  [0x26aa, 0x26ab],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x26ce, 0x26ce],
  [0x26d4, 0x26d4],
  [0x26ea, 0x26ea],
  [0x26f2, 0x26f3],
  [0x26f5, 0x26f5],
  [0x26fa, 0x26fa],
  [0x26fd, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x274e, 0x274e],
  [0x2753, 0x2755],
  [0x2757, 0x2757],
  [0x2795, 0x2797],
  [0x27b0, 0x27b0],
  [0x27bf, 0x27bf],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b50],
  [0x2b55, 0x2b55],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f2ff],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f7e0, 0x1f7eb],
  [0x1f900, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x3fffd],
];

function columns(codePoint: number): number {
  if (inRanges(ZERO_WIDTH, codePoint)) return 0;
  return inRanges(WIDE, codePoint) ? 2 : 1;
}

function inRanges(ranges: readonly (readonly [number, number])[], codePoint: number): boolean {
  for (const [from, to] of ranges) if (codePoint >= from && codePoint <= to) return true;
  return false;
}
