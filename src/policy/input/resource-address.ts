// A network resource's address decides its type, as in NetBird: an IP address or a
// /32 (/128) is a host, any other prefix a subnet, anything else a domain
// ("example.com", "*.example.com"). Hosts are written as full-length prefixes so
// that every non-domain address in the model is a CIDR.

import type { NetworkResource } from "../model/model.ts";

export function classifyResourceAddress(text: string): Pick<NetworkResource, "type" | "address"> {
  const address = text.trim();
  const looksLikeIp = address.includes(":") || /^[0-9./]+$/.test(address);
  if (!looksLikeIp) return { type: "domain", address: address.toLowerCase() };
  const [ip, prefix] = address.split("/");
  const fullLength = ip.includes(":") ? "128" : "32";
  if (prefix === undefined || prefix === fullLength) return { type: "host", address: `${ip}/${fullLength}` };
  return { type: "subnet", address };
}
