#include "udp_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include "batch_args.h"

Napi::Function UdpSocket::Define(Napi::Env env) {
  std::vector<Property> properties = {
      InstanceAccessor<&UdpSocket::GetLocalPort>("localPort"),
      InstanceAccessor<&UdpSocket::GetOffload>("offload"),
      InstanceMethod<&UdpSocket::Recv>("recv"),
      InstanceMethod<&UdpSocket::Send>("send"),
  };
  PollMembers(&properties);
  return DefineClass(env, "UdpSocket", properties);
}

static constexpr size_t kControlSpace = CMSG_SPACE(sizeof(int));

// UdpSocket(address: string, port: number, bufferBytes?: number, offload?: boolean)
UdpSocket::UdpSocket(const Napi::CallbackInfo& info)
    : PolledObjectWrap<UdpSocket>(info),
      msgs_(kMaxBatch),
      iovs_(kMaxBatch),
      addrs_(kMaxBatch),
      control_(kMaxBatch * kControlSpace),
      segments_(kMaxBatch) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "UdpSocket(address, port, bufferBytes?): address must be a string, port a number")
        .ThrowAsJavaScriptException();
    return;
  }
  std::string address = info[0].As<Napi::String>().Utf8Value();
  uint32_t port = info[1].As<Napi::Number>().Uint32Value();
  where_ = address + ":" + std::to_string(port);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (port > 65535 || inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) {
    ThrowSystemError(env, EINVAL, "bind", "invalid UDP listen address '" + where_ + "': expected IPv4:port");
    return;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    ThrowSystemError(env, err, "socket", std::string("cannot create a UDP socket: ") + strerror(err));
    return;
  }
  if (info.Length() > 2 && info[2].IsNumber()) {
    int bytes = info[2].As<Napi::Number>().Int32Value();
    // The *FORCE variants pass net.core.{r,w}mem_max when we have CAP_NET_ADMIN; fall back silently.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  }
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) < 0) {
    int err = errno;
    close(fd);
    std::string hint = err == EADDRINUSE      ? "; another process listens there"
                       : err == EADDRNOTAVAIL ? "; no local interface has this address"
                                              : "";
    ThrowSystemError(env, err, "bind", "cannot listen on UDP " + where_ + ": " + strerror(err) + hint);
    return;
  }
  if (info.Length() > 3 && info[3].ToBoolean().Value()) {
    // GSO needs no socket option (it is asked per send); GRO must be switched on. A kernel
    // without UDP_GRO (before 5.0) refuses it, and the socket works without offload.
    int on = 1;
    gro_ = setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
    gso_ = gro_;
  }
  poll_.Attach(env, fd);
}

Napi::Value UdpSocket::GetOffload(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), gso_ && gro_); }


Napi::Value UdpSocket::GetLocalPort(const Napi::CallbackInfo& info) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  if (poll_.fd() < 0 || getsockname(poll_.fd(), reinterpret_cast<struct sockaddr*>(&sa), &len) < 0)
    return Napi::Number::New(info.Env(), 0);
  return Napi::Number::New(info.Env(), ntohs(sa.sin_port));
}

// recv(buf, offsets, lengths, maxPackets, slotSize, srcAddrs: Uint32Array, srcPorts: Uint32Array) -> count
// Message m lands at m * slotSize. Each datagram becomes one packet i at offsets[i], from
// srcAddrs[i] (IPv4 as a uint32) : srcPorts[i]. With offload, a message may be a GRO run of
// up to 64 datagrams, split here at its segment size; give 64 KiB slots then. Datagrams
// longer than slotSize are truncated by the kernel and skipped here.
Napi::Value UdpSocket::Recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BatchArgs a;
  const char* sig = "recv(buf, offsets, lengths, maxPackets, slotSize, srcAddrs, srcPorts)";
  if (!ParseBatchArgs(info, sig, &a)) return env.Undefined();
  if (info.Length() < 7 || !info[4].IsNumber() || !info[5].IsTypedArray() || !info[6].IsTypedArray()) {
    Napi::TypeError::New(env, std::string(sig) + ": slotSize must be a number, srcAddrs and srcPorts Uint32Arrays")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t slot = info[4].As<Napi::Number>().Uint32Value();
  Napi::Uint32Array srcAddrs = info[5].As<Napi::Uint32Array>(), srcPorts = info[6].As<Napi::Uint32Array>();
  if (poll_.fd() < 0) {
    ThrowSystemError(env, EBADF, "recvmmsg", "UDP socket " + where_ + " is closed");
    return env.Undefined();
  }
  // Every message must fit its packets in the output arrays, even a full GRO run.
  size_t perMessage = gro_ ? kMaxSegments : 1;
  size_t n = std::min<size_t>({a.maxPackets / perMessage, kMaxBatch, srcAddrs.ElementLength() / perMessage,
                               srcPorts.ElementLength() / perMessage, slot ? a.bufLength / slot : 0});
  if (n == 0) return Napi::Number::New(env, 0);
  for (size_t i = 0; i < n; i++) {
    iovs_[i].iov_base = a.buf + i * slot;
    iovs_[i].iov_len = slot;
    memset(&msgs_[i], 0, sizeof(struct mmsghdr));
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &addrs_[i];
    msgs_[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    if (gro_) {
      msgs_[i].msg_hdr.msg_control = control_.data() + i * kControlSpace;
      msgs_[i].msg_hdr.msg_controllen = kControlSpace;
    }
  }
  int got;
  do got = recvmmsg(poll_.fd(), msgs_.data(), n, MSG_DONTWAIT, nullptr);
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED) return Napi::Number::New(env, 0);
    int err = errno;
    ThrowSystemError(env, err, "recvmmsg", "receiving on UDP " + where_ + " failed: " + strerror(err));
    return env.Undefined();
  }
  uint32_t count = 0;
  for (int i = 0; i < got; i++) {
    if (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
    uint32_t total = msgs_[i].msg_len;
    uint32_t segment = total;
    if (gro_) {
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&msgs_[i].msg_hdr); c != nullptr; c = CMSG_NXTHDR(&msgs_[i].msg_hdr, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
          int size;
          memcpy(&size, CMSG_DATA(c), sizeof size);
          if (size > 0) segment = static_cast<uint32_t>(size);
        }
      }
    }
    uint32_t addr = ntohl(addrs_[i].sin_addr.s_addr), port = ntohs(addrs_[i].sin_port);
    for (uint32_t at = 0; at < total; at += segment) {
      a.offsets[count] = static_cast<uint32_t>(i * slot + at);
      a.lengths[count] = std::min(segment, total - at);
      srcAddrs[count] = addr;
      srcPorts[count] = port;
      count++;
    }
  }
  return Napi::Number::New(env, count);
}

// send(buf, offsets, lengths, count, dstAddrs: Uint32Array, dstPorts: Uint32Array) -> datagrams sent
// Sends packet i to dstAddrs[i]:dstPorts[i]; a port of 0 means "no route, skip". When the
// socket buffer is full (EAGAIN) the rest of the batch is dropped, as a congested link would.
// With offload, consecutive packets that lie back to back in buf, go to the same endpoint and
// have the same length (the last may be shorter) leave as one GSO send: what a TUN read of a
// bulk TCP transfer produces.
Napi::Value UdpSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BatchArgs a;
  const char* sig = "send(buf, offsets, lengths, count, dstAddrs, dstPorts)";
  if (!ParseBatchArgs(info, sig, &a)) return env.Undefined();
  if (info.Length() < 6 || !info[4].IsTypedArray() || !info[5].IsTypedArray()) {
    Napi::TypeError::New(env, std::string(sig) + ": dstAddrs and dstPorts must be Uint32Arrays").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint32Array dstAddrs = info[4].As<Napi::Uint32Array>(), dstPorts = info[5].As<Napi::Uint32Array>();
  if (poll_.fd() < 0) {
    ThrowSystemError(env, EBADF, "sendmmsg", "UDP socket " + where_ + " is closed");
    return env.Undefined();
  }
  size_t total = std::min<size_t>({a.maxPackets, dstAddrs.ElementLength(), dstPorts.ElementLength()});
  uint32_t sent = 0;
  size_t i = 0;
  while (i < total) {
    // Gather up to kMaxBatch routable packets, then send them with one sendmmsg.
    size_t n = 0;
    for (; i < total && n < kMaxBatch; i++) {
      uint32_t port = dstPorts[i];
      size_t off = a.offsets[i], len = a.lengths[i];
      if (port == 0 || port > 65535 || off > a.bufLength || len > a.bufLength - off) continue;
      uint32_t segments = 1;
      size_t runLength = len;
      if (gso_) {
        while (i + 1 < total && segments < kMaxSegments && runLength + a.lengths[i + 1] <= kMaxGsoBytes &&
               dstPorts[i + 1] == port && dstAddrs[i + 1] == dstAddrs[i] && a.offsets[i + 1] == off + runLength &&
               a.lengths[i + 1] <= len && off + runLength + a.lengths[i + 1] <= a.bufLength) {
          bool shorter = a.lengths[i + 1] < len;
          runLength += a.lengths[++i];
          segments++;
          if (shorter) break;  // only the last segment of a GSO send may be shorter
        }
      }
      segments_[n] = segments;
      iovs_[n].iov_base = a.buf + off;
      iovs_[n].iov_len = runLength;
      memset(&addrs_[n], 0, sizeof(struct sockaddr_in));
      addrs_[n].sin_family = AF_INET;
      addrs_[n].sin_port = htons(static_cast<uint16_t>(port));
      addrs_[n].sin_addr.s_addr = htonl(dstAddrs[i]);
      memset(&msgs_[n], 0, sizeof(struct mmsghdr));
      msgs_[n].msg_hdr.msg_iov = &iovs_[n];
      msgs_[n].msg_hdr.msg_iovlen = 1;
      msgs_[n].msg_hdr.msg_name = &addrs_[n];
      msgs_[n].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
      if (segments > 1) {
        char* control = control_.data() + n * kControlSpace;
        memset(control, 0, kControlSpace);
        msgs_[n].msg_hdr.msg_control = control;
        msgs_[n].msg_hdr.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
        struct cmsghdr* c = CMSG_FIRSTHDR(&msgs_[n].msg_hdr);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t size = static_cast<uint16_t>(len);
        memcpy(CMSG_DATA(c), &size, sizeof size);
      }
      n++;
    }
    size_t done = 0;
    while (done < n) {
      int r = sendmmsg(poll_.fd(), msgs_.data() + done, n - done, MSG_DONTWAIT);
      if (r > 0) {
        for (int k = 0; k < r; k++) sent += segments_[done + k];
        done += r;
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return Napi::Number::New(env, sent);
      } else {
        // This message was refused (unreachable, too big; EIO when a device cannot segment):
        // skip it, keep the rest, and stop asking for GSO if GSO was the problem.
        if (segments_[done] > 1 && (errno == EIO || errno == EINVAL)) gso_ = false;
        done++;
      }
    }
  }
  return Napi::Number::New(env, sent);
}
