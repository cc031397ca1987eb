import { describe, expect, it } from "vitest";
import { evaluatePostureCheck } from "../../src/policy/compile/posture.ts";
import type { PeerMeta, PostureCheck } from "../../src/policy/model/model.ts";
import { compareVersions, parseVersion, versionShortfall } from "../../src/policy/compile/version.ts";

const check = (c: Omit<PostureCheck, "id" | "name">): PostureCheck => ({ id: "c", name: "c", ...c });
const passes = (c: Omit<PostureCheck, "id" | "name">, meta: PeerMeta) => evaluatePostureCheck(check(c), meta) === null;

describe("version comparison", () => {
  it("compares numerically segment by segment: 0.9.0 < 0.10.0", () => {
    expect(compareVersions("0.9.0", "0.10.0")).toBeLessThan(0);
    expect(compareVersions("0.10.0", "0.9.9")).toBeGreaterThan(0);
    expect(compareVersions("1.2", "1.2.0")).toBe(0);
    expect(compareVersions("v0.28.4", "0.28.4")).toBe(0);
  });
  it("cuts pre-release and build tags at '-' and '+', like NetBird", () => {
    expect(parseVersion("0.28.0-dev")).toEqual([0, 28, 0]);
    expect(parseVersion("6.1.0-18-amd64")).toEqual([6, 1, 0]);
    expect(parseVersion("1.0.0+build.7")).toEqual([1, 0, 0]);
  });
  it("refuses what is not a version, and a missing version fails a minimum", () => {
    expect(parseVersion("latest")).toBeNull();
    expect(() => compareVersions("x", "1")).toThrow(/not a version/);
    expect(versionShortfall(undefined, "0.1.0", "NetBird version")).toMatch(/no NetBird version/);
    expect(versionShortfall("0.25.0", "0.25.0", "v")).toBeNull();
  });
});

describe("posture checks (P8)", () => {
  it("P8: nb_version_check passes at or above the minimum, fails below or when missing", () => {
    const c = { nbVersionCheck: { minVersion: "0.10.0" } };
    expect(passes(c, { version: "0.10.0" })).toBe(true);
    expect(passes(c, { version: "0.28.1-dev" })).toBe(true);
    expect(passes(c, { version: "0.9.9" })).toBe(false);
    expect(evaluatePostureCheck(check(c), {})).toMatchObject({ kind: "nb_version_check", reason: expect.stringMatching(/no NetBird version/) });
  });

  it("P8: os_version_check compares the linux kernel cut at '-', per-OS versions, and fails unlisted OSes", () => {
    const c = { osVersionCheck: { linux: { minKernelVersion: "5.10" }, darwin: { minVersion: "14.0" }, windows: { minKernelVersion: "10.0.19045" } } };
    expect(passes(c, { os: "linux", kernelVersion: "6.1.0-18-amd64" })).toBe(true);
    expect(passes(c, { os: "linux", kernelVersion: "5.4.0-150-generic" })).toBe(false);
    expect(passes(c, { os: "darwin", osVersion: "14.2.1" })).toBe(true);
    expect(passes(c, { os: "darwin", osVersion: "13.6" })).toBe(false);
    expect(passes(c, { os: "windows", kernelVersion: "10.0.22631" })).toBe(true);
    expect(evaluatePostureCheck(check(c), { os: "ios", osVersion: "17.0" })!.reason).toMatch(/OS ios is not allowed/);
    expect(passes(c, { os: "freebsd" })).toBe(true); // outside NetBird's five OSes: passes, as in NetBird
    expect(passes(c, {})).toBe(false);
  });

  it("P8: geo_location_check allow/deny by country and optional city", () => {
    const allow = { geoLocationCheck: { action: "allow" as const, locations: [{ countryCode: "DE", cityName: "Berlin" }, { countryCode: "FR" }] } };
    expect(passes(allow, { countryCode: "DE", cityName: "Berlin" })).toBe(true);
    expect(passes(allow, { countryCode: "DE", cityName: "Munich" })).toBe(false);
    expect(passes(allow, { countryCode: "FR", cityName: "Lyon" })).toBe(true);
    expect(passes(allow, {})).toBe(false);
    const deny = { geoLocationCheck: { action: "deny" as const, locations: [{ countryCode: "RU" }] } };
    expect(passes(deny, { countryCode: "RU" })).toBe(false);
    expect(passes(deny, { countryCode: "DE" })).toBe(true);
  });

  it("P8: peer_network_range_check allow/deny on interface addresses or the connection IP", () => {
    const allow = { peerNetworkRangeCheck: { action: "allow" as const, ranges: ["192.168.0.0/16"] } };
    expect(passes(allow, { networkAddresses: ["10.0.0.5/8", "192.168.1.23/24"] })).toBe(true);
    expect(passes(allow, { networkAddresses: ["10.0.0.5/8"] })).toBe(false);
    expect(passes(allow, { connectionIp: "192.168.7.7" })).toBe(true);
    expect(evaluatePostureCheck(check(allow), {})!.reason).toMatch(/no network addresses/);
    const deny = { peerNetworkRangeCheck: { action: "deny" as const, ranges: ["203.0.113.0/24"] } };
    expect(passes(deny, { connectionIp: "203.0.113.9" })).toBe(false);
    expect(passes(deny, { connectionIp: "198.51.100.1" })).toBe(true);
  });

  it("P8: process_check needs every listed process running, by the path for the peer's OS", () => {
    const c = { processCheck: { processes: [{ linuxPath: "/usr/bin/falcon", macPath: "/Applications/Falcon.app" }] } };
    expect(passes(c, { os: "linux", processes: ["/usr/bin/falcon", "/sbin/init"] })).toBe(true);
    expect(passes(c, { os: "linux", processes: ["/sbin/init"] })).toBe(false);
    expect(passes(c, { os: "darwin", processes: ["/Applications/Falcon.app"] })).toBe(true);
    expect(evaluatePostureCheck(check(c), { os: "windows", processes: [] })!.reason).toMatch(/no windows path/);
    expect(passes(c, { os: "android" })).toBe(false);
  });

  it("P8: a check with several kinds fails on the first kind the peer fails", () => {
    const c = { nbVersionCheck: { minVersion: "0.1" }, geoLocationCheck: { action: "allow" as const, locations: [{ countryCode: "DE" }] } };
    expect(evaluatePostureCheck(check(c), { version: "1.0", countryCode: "US" })).toMatchObject({ kind: "geo_location_check" });
  });
});
