// Line and column of each problem's JSON path in the text it was read from, so an
// editor can jump to it. Only needed when a policy is rejected, so the text is parsed a
// second time here, with the yaml package's document model (JSON is YAML 1.2), which
// keeps every node's offset; js-yaml, the fast loader, keeps none.

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { parsePath } from "./json-path.ts";

/** 1-based line and column in the source text. */
export interface TextPosition {
  line: number;
  column: number;
}

/**
 * Above this size no positions are looked up: the document model takes about 75 bytes of
 * memory per byte of YAML (docs/policy-format.md, "Limits"), and a rejected policy must
 * not exhaust memory on its way to being reported.
 */
export const MAX_LOCATED_TEXT = 4 << 20;

/**
 * Where each path is in `text`: the key that names the last step, or the element it
 * indexes; when the path goes on past what is in the text (a missing field), the deepest
 * part that is there. Undefined for a path that is not a JSON path, or for a text over
 * MAX_LOCATED_TEXT.
 */
export function locatePaths(text: string, paths: readonly string[]): (TextPosition | undefined)[] {
  if (text.length > MAX_LOCATED_TEXT) return paths.map(() => undefined);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  return paths.map((path) => {
    const steps = parsePath(path);
    if (steps === undefined || !doc.contents) return undefined;
    let node: Node = doc.contents;
    let at = node.range?.[0];
    for (const step of steps) {
      let next: Node | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(step));
        if (pair && isScalar(pair.key)) {
          at = pair.key.range?.[0] ?? at;
          next = (pair.value as Node | null) ?? undefined;
        } else break;
      } else if (isSeq(node) && typeof step === "number" && step < node.items.length) {
        next = node.items[step] as Node;
        at = next.range?.[0] ?? at;
      } else break;
      if (next === undefined) break;
      node = next;
    }
    if (at === undefined) return undefined;
    const { line, col } = lines.linePos(at);
    return { line, column: col };
  });
}
