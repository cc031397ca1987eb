// The one error type of the capture readers: it says which file, at which byte offset,
// and what was expected there, so a corrupt capture can be inspected with a hex dump.

export class CaptureError extends Error {
  override readonly name = "CaptureError";

  constructor(
    /** The capture file's path, as given to openCapture. */
    readonly path: string,
    /** File offset of the header, record or block that is wrong. */
    readonly byteOffset: number,
    /** What is wrong there, e.g. "truncated record header: 16 bytes expected, 5 left". */
    readonly detail: string,
  ) {
    super(`${path}: byte offset ${byteOffset}: ${detail}`);
  }
}
