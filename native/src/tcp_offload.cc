#include "tcp_offload.h"

#include <string.h>

static constexpr uint8_t kTcp = 6;
static constexpr uint8_t kFlagFin = 0x01, kFlagPsh = 0x08, kFlagAck = 0x10;
static constexpr size_t kMaxRunBytes = 65535;

static inline uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
static inline void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
static inline uint32_t Get32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}
static inline void Put32(uint8_t* p, uint32_t v) {
  Put16(p, static_cast<uint16_t>(v >> 16));
  Put16(p + 2, static_cast<uint16_t>(v));
}

static uint32_t SumWords(const uint8_t* p, size_t length, uint32_t sum) {
  size_t i = 0;
  for (; i + 1 < length; i += 2) sum += Get16(p + i);
  if (i < length) sum += static_cast<uint32_t>(p[i]) << 8;
  return sum;
}

static uint16_t Fold(uint32_t sum) {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

bool TcpRunCandidate(const uint8_t* p, size_t length, TcpRunHead* head) {
  if (length < 40 || p[0] != 0x45 || p[9] != kTcp) return false;  // IPv4, no options, TCP
  uint16_t fragment = Get16(p + 6);
  if ((fragment & 0x4000) == 0 || (fragment & 0x3fff) != 0) return false;  // DF, not a fragment
  if (Get16(p + 2) != length) return false;
  uint32_t tcpHeader = static_cast<uint32_t>(p[20 + 12] >> 4) * 4;
  if (tcpHeader < 20 || 20 + tcpHeader >= length) return false;  // needs payload
  uint8_t flags = p[20 + 13];
  if ((flags & ~kFlagPsh) != kFlagAck) return false;  // plain ACK segments only (ECE/CWR/URG too end a run)
  head->ipHeader = 20;
  head->tcpHeader = tcpHeader;
  head->payload = static_cast<uint32_t>(length - 20 - tcpHeader);
  return true;
}

bool TcpRunContinues(const uint8_t* first, const TcpRunHead& head, const uint8_t* last, uint32_t lastPayload,
                     const uint8_t* next, size_t nextLength, size_t runBytes) {
  // A segment shorter than the segment size, or one with PSH, ends a run.
  if (lastPayload != head.payload || (last[20 + 13] & kFlagPsh) != 0) return false;
  TcpRunHead nextHead;
  if (!TcpRunCandidate(next, nextLength, &nextHead)) return false;
  if (nextHead.tcpHeader != head.tcpHeader || nextHead.payload > head.payload) return false;
  if (runBytes + nextHead.payload > kMaxRunBytes) return false;
  // Same TOS, TTL, addresses (IPv4 bytes 1, 8, 12..19) and ports.
  if (first[1] != next[1] || first[8] != next[8] || memcmp(first + 12, next + 12, 8) != 0) return false;
  if (memcmp(first + 20, next + 20, 4) != 0) return false;
  // Contiguous sequence numbers; same ACK number and window; same options.
  if (Get32(next + 20 + 4) != Get32(last + 20 + 4) + lastPayload) return false;
  if (memcmp(first + 20 + 8, next + 20 + 8, 4) != 0 || memcmp(first + 20 + 14, next + 20 + 14, 2) != 0) return false;
  return memcmp(first + 40, next + 40, head.tcpHeader - 20) == 0;
}

void TcpRunFinish(uint8_t* first, const TcpRunHead& head, uint32_t totalLength, uint8_t extraFlags,
                  VnetHeader* vnet) {
  Put16(first + 2, static_cast<uint16_t>(totalLength));
  Put16(first + 10, 0);
  Put16(first + 10, static_cast<uint16_t>(~Fold(SumWords(first, 20, 0)) & 0xffff));
  first[20 + 13] |= extraFlags & (kFlagPsh | kFlagFin);
  uint32_t tcpLength = totalLength - 20;
  // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum; the kernel adds the rest.
  Put16(first + 20 + 16, Fold(SumWords(first + 12, 8, 0) + kTcp + tcpLength));
  memset(vnet, 0, sizeof *vnet);
  vnet->flags = kVnetNeedsCsum;
  vnet->gsoType = kVnetGsoTcpV4;
  vnet->headerLength = static_cast<uint16_t>(head.ipHeader + head.tcpHeader);
  vnet->gsoSize = static_cast<uint16_t>(head.payload);
  vnet->csumStart = static_cast<uint16_t>(head.ipHeader);
  vnet->csumOffset = 16;
}

uint32_t SplitTcpGso(const uint8_t* super, size_t length, uint16_t gsoSize, uint8_t* out, size_t outRoom,
                     uint32_t maxSegments, uint32_t* offsets, uint32_t* lengths) {
  if (length < 40 || (super[0] >> 4) != 4 || super[9] != kTcp || gsoSize == 0) return 0;
  size_t ipHeader = static_cast<size_t>(super[0] & 0x0f) * 4;
  if (ipHeader < 20 || ipHeader + 20 > length) return 0;
  size_t headers = ipHeader + static_cast<size_t>(super[ipHeader + 12] >> 4) * 4;
  if (headers > length) return 0;
  size_t payload = length - headers;
  uint32_t segments = static_cast<uint32_t>((payload + gsoSize - 1) / gsoSize);
  if (segments == 0 || segments > maxSegments || length + (segments - 1) * headers > outRoom) return 0;
  uint16_t id = Get16(super + 4);
  uint32_t seq = Get32(super + ipHeader + 4);
  uint8_t flags = super[ipHeader + 13];
  size_t cursor = 0;
  for (uint32_t k = 0; k < segments; k++) {
    size_t chunk = k + 1 < segments ? gsoSize : payload - static_cast<size_t>(k) * gsoSize;
    uint8_t* seg = out + cursor;
    memcpy(seg, super, headers);
    memcpy(seg + headers, super + headers + static_cast<size_t>(k) * gsoSize, chunk);
    uint16_t total = static_cast<uint16_t>(headers + chunk);
    Put16(seg + 2, total);
    Put16(seg + 4, static_cast<uint16_t>(id + k));
    Put16(seg + 10, 0);
    Put16(seg + 10, static_cast<uint16_t>(~Fold(SumWords(seg, ipHeader, 0)) & 0xffff));
    uint8_t* tcp = seg + ipHeader;
    Put32(tcp + 4, seq + static_cast<uint32_t>(k) * gsoSize);
    uint8_t segFlags = flags;
    if (k + 1 < segments) segFlags &= static_cast<uint8_t>(~(kFlagFin | kFlagPsh));
    if (k > 0) segFlags &= static_cast<uint8_t>(~0x80);  // CWR only on the first segment
    tcp[13] = segFlags;
    Put16(tcp + 16, 0);
    uint32_t tcpLength = static_cast<uint32_t>(total - ipHeader);
    uint32_t sum = SumWords(seg + 12, 8, 0) + kTcp + tcpLength;
    Put16(tcp + 16, static_cast<uint16_t>(~Fold(SumWords(tcp, tcpLength, sum)) & 0xffff));
    offsets[k] = static_cast<uint32_t>(cursor);
    lengths[k] = total;
    cursor += total;
  }
  return segments;
}

void CompletePartialChecksum(uint8_t* p, size_t length, uint16_t start, uint16_t offset) {
  if (static_cast<size_t>(start) + offset + 2 > length) return;
  // The field already holds the pseudo-header sum; summing from `start` over the field and data gives the checksum.
  uint16_t sum = Fold(SumWords(p + start, length - start, 0));
  Put16(p + start + offset, static_cast<uint16_t>(~sum & 0xffff));
}
