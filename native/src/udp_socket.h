// A non-blocking IPv4 UDP socket with batched receive (recvmmsg) and send (sendmmsg):
// one system call moves a whole batch of tunnel datagrams, where Node's dgram module
// makes one call, one Buffer and one callback per datagram. With offload on, runs of
// equal-sized datagrams to one endpoint go out as one UDP GSO send (UDP_SEGMENT), and
// the kernel hands received runs over coalesced (UDP_GRO): the underlay path then costs
// per run, not per packet, on both ends.
#pragma once

#include <napi.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <vector>

#include "polled_wrap.h"

class UdpSocket : public PolledObjectWrap<UdpSocket> {
 public:
  static constexpr uint32_t kMaxBatch = 256;
  // The kernel's limit on segments per GSO send and per GRO-coalesced receive (UDP_MAX_SEGMENTS).
  static constexpr uint32_t kMaxSegments = 64;
  // Largest UDP payload of one GSO send over IPv4 (65535 - 20 IP - 8 UDP, rounded down).
  static constexpr size_t kMaxGsoBytes = 65000;
  static Napi::Function Define(Napi::Env env);
  explicit UdpSocket(const Napi::CallbackInfo& info);

 private:
  Napi::Value GetLocalPort(const Napi::CallbackInfo& info);
  Napi::Value GetOffload(const Napi::CallbackInfo& info);
  Napi::Value Recv(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);

  std::string where_;
  // Scratch for one batch, allocated once per socket.
  std::vector<struct mmsghdr> msgs_;
  std::vector<struct iovec> iovs_;
  std::vector<struct sockaddr_in> addrs_;
  std::vector<char> control_;    // one cmsg slot per message (UDP_SEGMENT on send, UDP_GRO on receive)
  std::vector<uint32_t> segments_;  // packets carried by each message of a send
  bool gso_ = false;
  bool gro_ = false;
};
