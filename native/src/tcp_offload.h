// TCP offload in userspace for a TUN device opened with IFF_VNET_HDR, both ways.
//
// Reads (GSO): the kernel hands over one large TCPv4 packet per 64 KiB of a stream;
// SplitTcpGso cuts it into the segments the kernel would have sent.
//
// Writes (GRO): consecutive in-order segments of one IPv4 TCP connection are handed to the
// kernel as a single large segment with a virtio-net header asking for TCPv4 GSO. The kernel's TCP receive
// path (or the forwarding path, which re-segments) then runs once per run instead of once
// per packet: on a bulk transfer this is most of the receiving agent's time.
//
// Only what Linux GRO itself would merge is merged: IPv4 without options, DF set, not a
// fragment, plain ACK segments (PSH allowed on the last), same addresses, ports, TTL,
// TOS, ACK number, window and TCP options, contiguous sequence numbers, every segment but
// the last exactly as long as the first, at most 64 KiB in all.
#pragma once

#include "vnet_header.h"
#include <stddef.h>
#include <stdint.h>

struct TcpRunHead {
  uint32_t ipHeader;    // IPv4 header length (always 20 here)
  uint32_t tcpHeader;   // TCP header length with options
  uint32_t payload;     // payload bytes of the first segment: the GSO segment size
};

// Whether the packet can start (or join) a run; fills `head` with its layout.
bool TcpRunCandidate(const uint8_t* p, size_t length, TcpRunHead* head);

// Whether `next` continues the run that `first` starts and whose last segment so far is `last`
// (with `lastPayload` bytes of payload). `runBytes` is the run's total IP length so far.
bool TcpRunContinues(const uint8_t* first, const TcpRunHead& head, const uint8_t* last, uint32_t lastPayload,
                     const uint8_t* next, size_t nextLength, size_t runBytes);

// Rewrites the first segment's IPv4 total length and header checksum for a merged length of
// `totalLength`, ORs `extraFlags` (PSH of the last segment) into its TCP flags, puts the
// pseudo-header sum the kernel expects for CHECKSUM_PARTIAL into its TCP checksum field, and
// fills `vnet` for TCPv4 GSO.
void TcpRunFinish(uint8_t* first, const TcpRunHead& head, uint32_t totalLength, uint8_t extraFlags,
                  VnetHeader* vnet);

// Splits a TCPv4 GSO packet read from the TUN (`super`, `length` bytes, segments of
// `gsoSize` payload bytes) into ordinary segments written back to back at `out`, as the
// kernel's own GSO would: per segment the IPv4 total length, id and checksum, the TCP
// sequence number, FIN/PSH only on the last and CWR only on the first, and a full TCP
// checksum. Returns the number of segments, or 0 if the packet is not IPv4 TCP, does not
// fit in `outRoom` bytes, or has more than `maxSegments` segments. Segment k's offset and
// length go to offsets[k] (relative to `out`) and lengths[k].
uint32_t SplitTcpGso(const uint8_t* super, size_t length, uint16_t gsoSize, uint8_t* out, size_t outRoom,
                     uint32_t maxSegments, uint32_t* offsets, uint32_t* lengths);

// Completes a checksum left partial by the kernel (kVnetNeedsCsum on a read).
void CompletePartialChecksum(uint8_t* p, size_t length, uint16_t start, uint16_t offset);
