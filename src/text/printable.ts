// Names in a policy, a capture or an API answer are data, and data may hold bytes that
// a terminal obeys: ESC starts a control sequence (recolour, retitle, move the cursor,
// rewrite what an earlier line said), CR and LF forge lines, bidi overrides reorder
// what is shown. Every text output (command output, error messages, text logs) passes
// its lines through `printable`; JSON output needs nothing more than JSON.stringify.

// C0 controls, DEL and C1 controls (\p{Cc}); bidi embeddings, overrides and isolates.
const UNSAFE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
const UNSAFE_ALL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` made safe for a terminal or a text log: control characters (newlines and tabs
 * included) become `\xNN`, bidi controls `\uNNNN`; all printable Unicode is kept as is.
 * Text without such characters is returned unchanged (no copy).
 */
export function printable(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text;
}

/** Lines our own code laid out, each made printable, joined by newlines: the line breaks are ours, any other control character is the data's. */
export function printableLines(lines: readonly string[]): string {
  return lines.map(printable).join("\n");
}
