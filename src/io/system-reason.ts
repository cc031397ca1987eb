// The operating system's reason for a failed file operation, for a one-line message that
// also names the file: Node says "ENOENT: no such file or directory, open '/x'"; people
// need "no such file or directory (ENOENT)" after the path they gave.

/** "no such file or directory (ENOENT)" from a Node file-system error; the message as is otherwise. */
export function systemReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err instanceof Error ? err.message : String(err);
  const match = /^[A-Z0-9_]+: (.*?), \w+(?: '.*')?$/s.exec(message);
  return match && code ? `${match[1]} (${code})` : message;
}
