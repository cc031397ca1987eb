// The API's shapes, checked against NetBird's own OpenAPI file (reference/netbird), and
// peers named the ways the API names them.

import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { compilePeer } from "../../src/policy/compile/compile.ts";
import { parsePolicyText } from "../../src/policy/input/load.ts";
import { PolicyError } from "../../src/policy/model/model.ts";
import { NETBIRD_API_ENUMS, NETBIRD_API_FIELDS } from "../../src/policy/input/netbird/netbird-api-fields.ts";
import { netbirdBase, type Doc } from "./helpers.ts";

type Schema = { $ref?: string; allOf?: Schema[]; properties?: Record<string, Schema>; enum?: string[]; items?: Schema };
const openapi = yaml.load(readFileSync("reference/netbird/netbird-openapi.yml", "utf8")) as { components: { schemas: Record<string, Schema> } };
const schemas = openapi.components.schemas;
const resolve = (s: Schema): Schema => (s.$ref ? resolve(schemas[s.$ref.split("/").pop()!]) : s);
function properties(s: Schema): Record<string, Schema> {
  const schema = resolve(s);
  return Object.assign({}, ...(schema.allOf ?? []).map(properties), schema.properties ?? {});
}
const fieldsOf = (name: string) => Object.keys(properties({ $ref: name }));

describe("NetBird's API shapes", () => {
  it("the known field lists are the OpenAPI file's, object by object", () => {
    for (const [kind, fields] of Object.entries(NETBIRD_API_FIELDS)) {
      const expected = kind === "Peer" ? [...new Set([...fieldsOf("Peer"), ...fieldsOf("PeerBatch")])] : fieldsOf(kind);
      expect([...fields].sort(), kind).toEqual(expected.sort());
    }
  });

  it("the known enum values are the OpenAPI file's", () => {
    const enumOf = (s: Schema): string[] => {
      const r = resolve(s);
      return r.enum ?? (r.allOf ?? []).flatMap(enumOf);
    };
    for (const [key, values] of Object.entries(NETBIRD_API_ENUMS)) {
      const [object, field] = key.split(".");
      expect([...values].sort(), key).toEqual([...new Set(enumOf(properties({ $ref: object })[field]))].sort());
    }
  });
});

describe("--peer by the names NetBird gives a peer", () => {
  const doc = netbirdBase();
  doc.peers[1].dns_label = "db-1.netbird.cloud";
  doc.peers[2].dns_label = "router-1.corp.example";
  const account = parsePolicyText(JSON.stringify(doc), "export.json");
  const self = (name: string) => compilePeer(account, name).peer.id;
  const problemOf = (a: typeof account, name: string) => {
    try {
      compilePeer(a, name);
    } catch (err) {
      if (err instanceof PolicyError) return err.problems[0].message;
      throw err;
    }
    throw new Error("expected a refusal");
  };

  it("selects a peer by id, name, IP, FQDN (dns_label) and the bare DNS label, case-insensitive for DNS names", () => {
    for (const name of ["p2", "db-1", "100.64.0.20", "db-1.netbird.cloud", "DB-1.NetBird.Cloud.", "db-1"]) expect(self(name)).toBe("p2");
    expect(self("router-1.corp.example")).toBe("p3");
  });

  it("several peers sharing a name is an error listing the candidates; the FQDN tells them apart", () => {
    const twins: Doc = structuredClone(doc);
    twins.peers.push({ ...twins.peers[1], id: "p4", ip: "100.64.0.21", dns_label: "db-1-abcd.netbird.cloud" });
    const shared = parsePolicyText(JSON.stringify(twins), "export.json");
    expect(problemOf(shared, "db-1")).toBe(
      '"db-1" is ambiguous: it names 2 peers: id "p2" (name "db-1", IP 100.64.0.20, FQDN db-1.netbird.cloud; matched by name and DNS label); id "p4" (name "db-1", IP 100.64.0.21, FQDN db-1-abcd.netbird.cloud; matched by name); name the peer by its id, IP or FQDN',
    );
    expect(compilePeer(shared, "db-1-abcd.netbird.cloud").peer.id).toBe("p4");
    expect(compilePeer(shared, "db-1-abcd").peer.id).toBe("p4");
  });

  it("a near miss suggests the closest name", () => {
    expect(problemOf(account, "db-2")).toBe('no peer has id, name, IP, FQDN or DNS label "db-2"; did you mean "db-1"?');
    expect(problemOf(account, "nothing-like-it")).toBe('no peer has id, name, IP, FQDN or DNS label "nothing-like-it"');
  });
});
