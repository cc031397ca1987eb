// Where each object of an Account came from in the document it was imported from.
// Validation works on the normalized Account (one set of checks for every input
// format), but its problems must point into the file the user wrote: an importer
// records, for each object it creates, the document path of the object and of the
// fields whose names or positions differ from the model.

import { childPath } from "./json-path.ts";

/** Document path of a field: one path (array elements get "[i]" appended), or one path per element. */
export type FieldLocation = string | readonly string[];

interface Located {
  path: string;
  fields: Record<string, FieldLocation>;
}

export class SourceMap {
  private readonly located = new WeakMap<object, Located>();

  /** Record that `object` was read at `path`; `fields` maps model field names (dotted when nested) to document paths. */
  record(object: object, path: string, fields: Record<string, FieldLocation> = {}): void {
    this.located.set(object, { path, fields });
  }

  /** The document path of `object`, or `fallback` when it was not recorded (built in code). */
  pathOf(object: object, fallback: string): string {
    return this.located.get(object)?.path ?? fallback;
  }

  /** The document path of `object[field]` (or of its element `index`). */
  fieldPath(object: object, fallback: string, field: string, index?: number): string {
    const located = this.located.get(object);
    // Unrecorded fields sit under the object with their model names ("a.b" is nested).
    const modelPath = field.split(".").reduce(childPath, located?.path ?? fallback);
    const where = located?.fields[field] ?? modelPath;
    if (typeof where !== "string") return index === undefined ? modelPath : (where[index] ?? modelPath);
    return index === undefined ? where : childPath(where, index);
  }
}
