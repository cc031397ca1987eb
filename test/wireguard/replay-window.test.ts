// The receive window over message counters (RFC 6479): each counter once, any order
// within WINDOW_SIZE of the highest, nothing older; a jump far ahead forgets the past.
import { describe, expect, it } from "vitest";
import { COUNTER_LIMIT, ReplayWindow, WINDOW_SIZE } from "../../src/wireguard/replay-window.ts";

describe("ReplayWindow", () => {
  it("accepts each counter once, in order or reordered", () => {
    const w = new ReplayWindow();
    for (const c of [0, 1, 2, 5, 4, 3, 10, 7]) expect(w.accept(c)).toBe(true);
    for (const c of [0, 1, 2, 3, 4, 5, 7, 10]) expect(w.accept(c)).toBe(false);
    expect(w.accept(6)).toBe(true);
  });

  it("accepts a late counter exactly while it is inside the window", () => {
    const w = new ReplayWindow();
    expect(w.accept(WINDOW_SIZE + 100)).toBe(true);
    expect(w.mayAccept(100)).toBe(false); // last - WINDOW_SIZE: outside
    expect(w.accept(100)).toBe(false);
    expect(w.accept(101)).toBe(true); // the oldest still inside
    expect(w.accept(WINDOW_SIZE + 99)).toBe(true);
  });

  it("a jump further than the ring clears every old bit (no ghost from an earlier lap)", () => {
    const w = new ReplayWindow();
    for (let c = 0; c < 64; c++) expect(w.accept(c)).toBe(true);
    const far = 2048 * 3 + 40;
    expect(w.accept(far)).toBe(true);
    // far - 40 .. far - 1 sit on the ring bits that counters 0..39 once set.
    for (let c = far - 40; c < far; c++) expect(w.accept(c)).toBe(true);
    expect(w.accept(far - WINDOW_SIZE + 1)).toBe(true);
    expect(w.accept(far - WINDOW_SIZE)).toBe(false);
  });

  it("moving forward a block at a time clears the blocks it passes", () => {
    const w = new ReplayWindow();
    for (let c = 0; c < 10_000; c++) expect(w.accept(c)).toBe(true);
    for (let c = 10_000 - WINDOW_SIZE; c < 10_000; c++) expect(w.accept(c)).toBe(false);
    expect(w.accept(10_000 - WINDOW_SIZE - 1)).toBe(false);
  });

  it("refuses counters a number cannot hold exactly, and reset forgets", () => {
    const w = new ReplayWindow();
    expect(w.accept(COUNTER_LIMIT)).toBe(false);
    expect(w.accept(COUNTER_LIMIT - 1)).toBe(true);
    w.reset();
    expect(w.accept(0)).toBe(true);
  });
});
