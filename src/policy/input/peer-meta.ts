// A peer's own metadata, from a small JSON or YAML file: the agent knows its version,
// OS, location and processes better than an exported account does, so posture checks
// can be evaluated with what the peer reports about itself. Field names are NetBird's
// (snake_case): version, os, os_version, kernel_version, country_code, city_name,
// network_addresses, connection_ip, processes.

import { PolicyError, type Account, type PeerMeta } from "../model/model.ts";
import { parseDocumentText, readTextFile } from "./parse-document.ts";
import { resolvePeer } from "../model/peer-ref.ts";
import { peerMetaSchema, toPeerMeta } from "./schema-peer-meta.ts";
import { SourceMap } from "./source-map.ts";
import { peerMetaProblems } from "../model/validate.ts";
import { problemsFromZod } from "./zod-problems.ts";

/** Read a peer-metadata file. Throws PolicyError with every problem (unknown fields, bad addresses...). */
export function loadPeerMeta(path: string): PeerMeta {
  return parsePeerMetaText(readTextFile(path), path);
}

export function parsePeerMetaText(text: string, sourceName: string): PeerMeta {
  const parsed = peerMetaSchema.safeParse(parseDocumentText(text, sourceName, "peer metadata"));
  if (!parsed.success) throw new PolicyError(problemsFromZod(parsed.error), sourceName);
  const meta = toPeerMeta(parsed.data);
  const where = new SourceMap();
  where.record(meta, "$", { networkAddresses: "$.network_addresses", connectionIp: "$.connection_ip", countryCode: "$.country_code" });
  const problems = peerMetaProblems(meta, where, "$");
  if (problems.length > 0) throw new PolicyError(problems, sourceName);
  return meta;
}

/**
 * A copy of `account` in which one peer (`self`: its id, name or overlay IP) has its
 * metadata overridden field by field by `meta`; fields `meta` lacks keep the account's
 * values. Throws PolicyError when no peer matches, or several do.
 */
export function withPeerMeta(account: Account, self: string, meta: PeerMeta): Account {
  const target = resolvePeer(account.peers, self);
  return {
    ...account,
    peers: account.peers.map((p) => (p === target ? { ...p, meta: { ...p.meta, ...meta } } : p)),
  };
}
