// A DNS server on loopback for the resolver's tests: answers A and AAAA queries from a
// table the test changes at will (dns-packet encodes and decodes), or SERVFAIL for names
// marked failing. Real UDP, so the agent's resolver (node:dns) is used as in production.

import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import dnsPacket from "dns-packet";

export interface DnsResponder {
  /** "127.0.0.1:PORT", for Resolver.setServers. */
  server: string;
  /** name -> addresses and TTL (seconds); "fail" answers SERVFAIL. */
  answers: Map<string, { addresses: string[]; ttl: number } | "fail">;
  queries: number;
  close(): Promise<void>;
}

/** Listens on `host`:`port` (an unused loopback port by default). */
export async function startDnsResponder(host = "127.0.0.1", port = 0): Promise<DnsResponder> {
  const socket: Socket = createSocket("udp4");
  const responder: DnsResponder = { server: "", answers: new Map(), queries: 0, close: () => new Promise((r) => socket.close(() => r())) };
  socket.on("message", (message, from) => {
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    if (!question) return;
    responder.queries++;
    const entry = responder.answers.get(question.name.toLowerCase());
    const family = question.type === "AAAA" ? ":" : ".";
    const answers =
      entry && entry !== "fail"
        ? entry.addresses.filter((a) => a.includes(family)).map((data) => ({ type: question.type as "A" | "AAAA", name: question.name, ttl: entry.ttl, class: "IN" as const, data }))
        : [];
    const rcode = entry === "fail" ? "SERVFAIL" : entry ? "NOERROR" : "NXDOMAIN";
    const reply = dnsPacket.encode({ type: "response", id: query.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, rcode, questions: [question], answers } as dnsPacket.Packet);
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(port, host, resolve));
  responder.server = `${host}:${(socket.address() as AddressInfo).port}`;
  return responder;
}
