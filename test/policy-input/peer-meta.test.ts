// A peer's own metadata file, and overriding one peer's metadata in an account.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadPolicyFile } from "../../src/policy/input/load.ts";
import { loadPeerMeta, parsePeerMetaText, withPeerMeta } from "../../src/policy/input/peer-meta.ts";
import { refusalProblems } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), `meshfilter-meta-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(text: string) {
  return refusalProblems(() => parsePeerMetaText(text, "meta"), "expected the metadata to be refused");
}

describe("peer metadata files", () => {
  it("reads every field, from YAML", () => {
    const path = join(dir, "meta.yaml");
    writeFileSync(
      path,
      [
        "version: 0.30.1",
        "os: linux",
        "os_version: '22.04'",
        "kernel_version: 6.1.0-18-amd64",
        "country_code: de",
        "city_name: Berlin",
        "network_addresses: [192.168.1.23/24, 'fd00:1::5/64']",
        "connection_ip: 203.0.113.7",
        "processes: [/usr/bin/falcon-sensor]",
      ].join("\n"),
    );
    expect(loadPeerMeta(path)).toEqual({
      version: "0.30.1",
      os: "linux",
      osVersion: "22.04",
      kernelVersion: "6.1.0-18-amd64",
      countryCode: "DE",
      cityName: "Berlin",
      networkAddresses: ["192.168.1.23/24", "fd00:1::5/64"],
      connectionIp: "203.0.113.7",
      processes: ["/usr/bin/falcon-sensor"],
    });
  });

  it("reads JSON, and splits NetBird's 'Darwin 13.2.1' into family and version", () => {
    expect(parsePeerMetaText('{"os": "Darwin 13.2.1", "version": "0.29.0"}', "m.json")).toEqual({ os: "darwin", osVersion: "13.2.1", version: "0.29.0" });
    expect(parsePeerMetaText("os: Windows", "m")).toEqual({ os: "windows" });
    expect(parsePeerMetaText("os: Ubuntu 22.04.3 LTS", "m")).toEqual({ os: "linux", osVersion: "22.04.3" });
  });

  it("reports unknown fields, bad addresses and bad country codes, all at once", () => {
    expect(problemsOf("verison: 1\n")).toEqual([{ path: "$.verison", message: 'unknown field "verison"' }]);
    expect(problemsOf("connection_ip: 1.2.3\nnetwork_addresses: [10.0.0.1/40]\ncountry_code: Germany\n")).toEqual([
      { path: "$.connection_ip", message: '"1.2.3" is not a valid IP address' },
      { path: "$.network_addresses[0]", message: expect.stringContaining('"10.0.0.1/40" is not a valid CIDR') },
      { path: "$.country_code", message: expect.stringContaining('"GERMANY" is not a two-letter country code') },
    ]);
    expect(problemsOf("")[0].message).toBe("the file is empty; expected a peer metadata object");
  });

  it("overrides one peer's metadata field by field, by name, id or IP", () => {
    const account = loadPolicyFile("examples/account.yaml");
    const updated = withPeerMeta(account, "100.64.0.10", { version: "0.31.0", processes: [] });
    const alice = updated.peers.find((p) => p.name === "laptop-alice");
    expect(alice?.meta).toMatchObject({ version: "0.31.0", processes: [], os: "linux", countryCode: "DE" });
    expect(account.peers[0].meta.version).toBe("0.30.1"); // the input account is not changed
    expect(withPeerMeta(account, "db-1", { os: "linux" }).peers[2].meta.os).toBe("linux");
    expect(() => withPeerMeta(account, "nobody", {})).toThrowError(/no peer has id, name, IP, FQDN or DNS label "nobody"/);
  });
});
