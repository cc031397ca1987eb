import { describe, expect, it } from "vitest";
import { PrefixSet } from "../../src/filter/prefix-set.ts";
import { hashWords, WordHashTable } from "../../src/filter/word-hash.ts";
import { parseCidr } from "../../src/packet/address.ts";
import { packet } from "./fixtures.ts";

describe("WordHashTable", () => {
  it("stores, grows and keeps the smallest value per key", () => {
    const table = new WordHashTable(3);
    for (let i = 0; i < 10_000; i++) {
      table.probe.set([i, 0xffffffff - i, i * 7]);
      table.insertMin(i + 5);
    }
    for (let i = 0; i < 10_000; i += 2) {
      table.probe.set([i, 0xffffffff - i, i * 7]);
      table.insertMin(i); // smaller: replaces
      table.insertMin(i + 100); // larger: ignored
    }
    expect(table.size).toBe(10_000);
    for (let i = 0; i < 10_000; i++) {
      table.probe.set([i, 0xffffffff - i, i * 7]);
      expect(table.find()).toBe(i % 2 === 0 ? i : i + 5);
    }
    table.probe.set([1, 0xffffffff - 2, 7]);
    expect(table.find()).toBe(-1);
  });

  it("without its own presence filter, findHashed answers as find does (tuple-space.ts keeps one per bucket)", () => {
    const table = new WordHashTable(3, 0, false);
    for (let i = 0; i < 5_000; i++) {
      table.probe.set([i, 0x80000000 + i, 3]);
      table.insertMin(i);
    }
    for (let i = 0; i < 5_000; i++) {
      table.probe.set([i, 0x80000000 + i, 3]);
      expect(table.findHashed(hashWords(table.probe, 0, 3))).toBe(i);
      expect(table.find(), "find works without a filter too").toBe(i);
      table.probe.set([i, 0x80000000 + i, 4]);
      expect(table.findHashed(hashWords(table.probe, 0, 3))).toBe(-1);
    }
  });
});

describe("PrefixSet", () => {
  it("answers membership for hosts and prefixes of both versions", () => {
    const set = new PrefixSet(["100.64.0.20/32", "198.18.1.0/24", "0.0.0.0/1", "fd00::20/128", "2001:db8::/32"].map(parseCidr));
    expect(set.size).toBe(5);
    const dst = (address: string) => set.containsDestination(packet("tcp", address.includes(":") ? "fd00::1" : "1.1.1.1", address, 1));
    expect(dst("100.64.0.20")).toBe(true);
    expect(dst("198.18.1.99")).toBe(true);
    expect(dst("127.0.0.1")).toBe(true); // inside 0.0.0.0/1
    expect(dst("198.18.2.1")).toBe(false);
    expect(dst("fd00::20")).toBe(true);
    expect(dst("2001:db8:ffff::1")).toBe(true);
    expect(dst("fd00::21")).toBe(false);
    expect(set.containsSource(packet("tcp", "198.18.1.5", "203.0.113.1", 1))).toBe(true);
    expect(new PrefixSet([]).containsSource(packet("tcp", "198.18.1.5", "203.0.113.1", 1))).toBe(false);
  });
});
