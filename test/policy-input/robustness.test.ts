// Bad input gets a clear PolicyError, never a crash: random documents, and the example
// accounts with random parts replaced by random values.

import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parsePolicyText } from "../../src/policy/input/load.ts";
import { PolicyError } from "../../src/policy/model/model.ts";
import { parsePeerMetaText } from "../../src/policy/input/peer-meta.ts";

/** Load `text`; true when it loaded, false on a PolicyError whose problems all have a path and a message. */
function loadsOrExplains(load: (text: string) => unknown, text: string): boolean {
  try {
    load(text);
    return true;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) {
      expect(p.path).toMatch(/^\$/);
      expect(p.message.length).toBeGreaterThan(0);
    }
    return false;
  }
}

const policy = (text: string) => parsePolicyText(text, "fuzz");

/** Replace the value at a random path of `doc` with `replacement`. */
function mutate(doc: unknown, choices: number[], replacement: unknown): unknown {
  if (choices.length === 0 || doc === null || typeof doc !== "object") return replacement;
  const keys = Object.keys(doc);
  if (keys.length === 0) return replacement;
  const key = keys[choices[0] % keys.length];
  const copy: Record<string, unknown> = Array.isArray(doc) ? ([...doc] as unknown as Record<string, unknown>) : { ...(doc as Record<string, unknown>) };
  copy[key] = mutate((doc as Record<string, unknown>)[key], choices.slice(1), replacement);
  return copy;
}

describe("robustness", () => {
  it("random text and random JSON values give an Account or a PolicyError", () => {
    fc.assert(fc.property(fc.string(), (text) => void loadsOrExplains(policy, text)), { numRuns: 300 });
    fc.assert(fc.property(fc.jsonValue(), (value) => void loadsOrExplains(policy, JSON.stringify(value))), { numRuns: 300 });
  });

  for (const file of ["account.yaml", "account.netbird.json"]) {
    it(`${file} with a random part replaced gives an Account or a PolicyError`, () => {
      const doc = parse(readFileSync(`examples/${file}`, "utf8"));
      fc.assert(
        fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), (choices, replacement) => {
          loadsOrExplains(policy, JSON.stringify(mutate(doc, choices, replacement)));
        }),
        { numRuns: 400 },
      );
    });
  }

  it("random peer metadata gives PeerMeta or a PolicyError", () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => void loadsOrExplains((t) => parsePeerMetaText(t, "fuzz"), JSON.stringify(value))), { numRuns: 300 });
  });
});
