// The virtio-net header that a TUN device opened with IFF_VNET_HDR puts before every
// packet (struct virtio_net_hdr in <linux/virtio_net.h>, which C++ cannot include: it has a
// field named `class`). Fields are in host byte order, as TUN uses them by default.
#pragma once

#include <stdint.h>

struct VnetHeader {
  uint8_t flags;
  uint8_t gsoType;
  uint16_t headerLength;  // IP + TCP headers of a GSO packet
  uint16_t gsoSize;       // payload bytes per segment
  uint16_t csumStart;     // where checksumming starts
  uint16_t csumOffset;    // where, after csumStart, the checksum goes
};
static_assert(sizeof(VnetHeader) == 10, "virtio_net_hdr is 10 bytes");

constexpr uint8_t kVnetNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
constexpr uint8_t kVnetGsoNone = 0;    // VIRTIO_NET_HDR_GSO_NONE
constexpr uint8_t kVnetGsoTcpV4 = 1;   // VIRTIO_NET_HDR_GSO_TCPV4
