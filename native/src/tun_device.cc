#include "tun_device.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "batch_args.h"
#include "tcp_offload.h"

// The most segments merged into one write (Linux GRO's own limit per super-packet).
static constexpr uint32_t kMaxRun = 64;

Napi::Function TunDevice::Define(Napi::Env env) {
  std::vector<Property> properties = {
      InstanceAccessor<&TunDevice::GetName>("name"),
      InstanceAccessor<&TunDevice::GetOffload>("offload"),
      InstanceAccessor<&TunDevice::GetMergedWrites>("mergedWrites"),
      InstanceAccessor<&TunDevice::GetSplitReads>("splitReads"),
      InstanceMethod<&TunDevice::Read>("read"),
      InstanceMethod<&TunDevice::Write>("write"),
  };
  PollMembers(&properties);
  return DefineClass(env, "TunDevice", properties);
}

// Explains the errno of opening the clone device or of TUNSETIFF in terms of what to do.
static std::string ExplainOpenError(int err, const std::string& name, const std::string& clonePath, bool multiQueue,
                                    bool onIoctl) {
  std::string dev = "TUN device '" + name + "'";
  switch (err) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return "cannot open " + dev + ": the clone device " + clonePath +
             " does not exist (" + strerror(err) +
             "); load the tun module (modprobe tun), or in a container pass --device /dev/net/tun";
    case EPERM:
    case EACCES:
      if (onIoctl)
        return "cannot create or attach " + dev + ": CAP_NET_ADMIN is missing (" + strerror(err) +
               "); run as root, give node the capability (setcap cap_net_admin+ep), or have root create it "
               "for your user first (ip tuntap add dev " + name + " mode tun user $USER)";
      return "cannot open " + clonePath + " for " + dev + ": permission denied (" + strerror(err) +
             "); run as root or make the clone device accessible";
    case EBUSY:
      return dev + " is busy (EBUSY): another process already holds its only queue; stop that process or choose another "
                   "device name" + std::string(multiQueue ? "" : ", or open every queue with multiQueue: true");
    case EINVAL:
      return dev + " exists with another type or queue mode (EINVAL): it is " +
             (multiQueue ? "single-queue or not a TUN device, and multiQueue: true was asked"
                         : "multi-queue or not a TUN device, and a single queue was asked") +
             "; open it with the matching multiQueue option, or delete it (ip link del " + name + ")";
    default:
      return "cannot open " + dev + ": " + strerror(err);
  }
}

// TunDevice(name, multiQueue?, clonePath?, offload?)
TunDevice::TunDevice(const Napi::CallbackInfo& info) : PolledObjectWrap<TunDevice>(info), iov_(kMaxRun + 1) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "TunDevice(name, multiQueue?, clonePath?): name must be a string").ThrowAsJavaScriptException();
    return;
  }
  name_ = info[0].As<Napi::String>().Utf8Value();
  bool multiQueue = info.Length() > 1 && info[1].ToBoolean().Value();
  std::string clonePath = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "/dev/net/tun";
  bool offload = info.Length() > 3 && info[3].ToBoolean().Value();
  if (name_.empty() || name_.size() >= IFNAMSIZ) {
    ThrowSystemError(env, EINVAL, "open",
                     "invalid TUN device name '" + name_ + "': it must be 1 to " + std::to_string(IFNAMSIZ - 1) + " bytes");
    return;
  }

  int fd = open(clonePath.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    ThrowSystemError(env, err, "open", ExplainOpenError(err, name_, clonePath, multiQueue, false));
    return;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0) | (offload ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, name_.data(), name_.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    ThrowSystemError(env, err, "ioctl(TUNSETIFF)", ExplainOpenError(err, name_, clonePath, multiQueue, true));
    return;
  }
  name_ = ifr.ifr_name;  // the kernel may have filled in a pattern such as "mf%d"
  if (offload) {
    // Let the kernel hand over TCPv4 GSO packets (up to 64 KiB) with checksums left partial:
    // one read then replaces dozens, and the kernel's TCP sends in large units. They are split
    // into ordinary packets here, so JavaScript never sees them.
    if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) < 0) {
      int err = errno;
      close(fd);
      ThrowSystemError(env, err, "ioctl(TUNSETOFFLOAD)", "cannot configure offloads on TUN device '" + name_ + "': " + strerror(err));
      return;
    }
    vnet_ = true;
    scratch_.resize(65536 + 256);
  }
  poll_.Attach(env, fd);
}

Napi::Value TunDevice::GetName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
Napi::Value TunDevice::GetOffload(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), vnet_); }
Napi::Value TunDevice::GetMergedWrites(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), mergedWrites_); }
Napi::Value TunDevice::GetSplitReads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), splitReads_); }

// read(buf, offsets, lengths, maxPackets, packetRoom) -> count
// Reads packets back to back into buf while the device has some, up to maxPackets, and
// while at least packetRoom bytes remain (so no packet is ever truncated). With offload, a
// large TCP packet from the kernel is split into segments here; one that does not fit the
// rest of the batch is kept for the next call (packetRoom is not needed then).
Napi::Value TunDevice::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BatchArgs a;
  if (!ParseBatchArgs(info, "read(buf, offsets, lengths, maxPackets, packetRoom)", &a)) return env.Undefined();
  uint32_t room = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().Uint32Value() : 65535;
  if (room == 0) room = 1;
  int fd = poll_.fd();
  if (fd < 0) {
    ThrowSystemError(env, EBADF, "read", "TUN device '" + name_ + "' is closed");
    return env.Undefined();
  }
  size_t cursor = 0;
  uint32_t count = 0;
  if (vnet_) {
    while (count < a.maxPackets) {
      if (pendingLength_ == 0) {
        int err = 0;
        if (!ReadIntoScratch(&err)) {
          if (err == 0 || count > 0) break;  // nothing ready, or report the error on the next call
          ThrowSystemError(env, err, "read", "reading TUN device '" + name_ + "' failed: " + strerror(err));
          return env.Undefined();
        }
        if (pendingLength_ == 0) continue;  // a packet that was dropped while reading
      }
      if (!EmitPending(a, &cursor, &count)) {
        // With an empty batch it can never fit (or is not splittable): drop it. Otherwise it
        // waits for the next call, which is why callers read until read() returns 0.
        if (count == 0) pendingLength_ = 0;
        else break;
      }
    }
    return Napi::Number::New(env, count);
  }
  while (count < a.maxPackets && a.bufLength - cursor >= room) {
    ssize_t n = read(fd, a.buf + cursor, a.bufLength - cursor);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (count > 0) break;  // report the error on the next call, after the packets already read
      int err = errno;
      ThrowSystemError(env, err, "read", "reading TUN device '" + name_ + "' failed: " + strerror(err));
      return env.Undefined();
    }
    a.offsets[count] = static_cast<uint32_t>(cursor);
    a.lengths[count] = static_cast<uint32_t>(n);
    count++;
    cursor += static_cast<size_t>(n);
  }
  return Napi::Number::New(env, count);
}

// write(buf, offsets, lengths, count, verdicts?) -> packets written
// Writes each packet i < count (skipping those whose verdicts[i] is 0). A packet the
// kernel refuses (EINVAL for a malformed one, EAGAIN when its queue is full) is dropped,
// as a router would drop it; the return value tells how many went through.
Napi::Value TunDevice::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BatchArgs a;
  if (!ParseBatchArgs(info, "write(buf, offsets, lengths, count, verdicts?)", &a)) return env.Undefined();
  const uint8_t* verdicts = nullptr;
  size_t verdictsLength = 0;
  if (info.Length() > 4 && info[4].IsTypedArray()) {
    Napi::Uint8Array v = info[4].As<Napi::Uint8Array>();
    verdicts = v.Data();
    verdictsLength = v.ElementLength();
  }
  int fd = poll_.fd();
  if (fd < 0) {
    ThrowSystemError(env, EBADF, "write", "TUN device '" + name_ + "' is closed");
    return env.Undefined();
  }
  uint32_t written = 0;
  bool bad = false;
  uint32_t badIndex = 0;
  if (vnet_) {
    written = WriteWithHeaders(a, verdicts, verdictsLength, &bad, &badIndex);
  } else {
    for (uint32_t i = 0; i < a.maxPackets; i++) {
      if (verdicts != nullptr && (i >= verdictsLength || verdicts[i] == 0)) continue;
      size_t off = a.offsets[i], len = a.lengths[i];
      if (off > a.bufLength || len > a.bufLength - off) {
        bad = true;
        badIndex = i;
        break;
      }
      ssize_t n;
      do n = write(fd, a.buf + off, len);
      while (n < 0 && errno == EINTR);
      if (n >= 0) written++;
    }
  }
  if (bad) {
    ThrowSystemError(env, EINVAL, "write",
                     "packet " + std::to_string(badIndex) + " (offset " + std::to_string(a.offsets[badIndex]) + ", length " +
                         std::to_string(a.lengths[badIndex]) + ") lies outside the buffer of " + std::to_string(a.bufLength) +
                         " bytes");
    return env.Undefined();
  }
  return Napi::Number::New(env, written);
}

// Reads one packet with its virtio-net header into scratch_. Returns false when nothing
// was read (*error = 0 when nothing is ready, else the errno).
bool TunDevice::ReadIntoScratch(int* error) {
  struct iovec parts[2] = {{&pendingHeader_, sizeof pendingHeader_}, {scratch_.data(), scratch_.size()}};
  ssize_t n;
  do n = readv(poll_.fd(), parts, 2);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    *error = (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : errno;
    return false;
  }
  n -= static_cast<ssize_t>(sizeof pendingHeader_);
  if (n <= 0) return true;  // a header without a packet: nothing to pass on
  pendingLength_ = static_cast<size_t>(n);
  if (pendingHeader_.gsoType == kVnetGsoNone && (pendingHeader_.flags & kVnetNeedsCsum))
    CompletePartialChecksum(scratch_.data(), pendingLength_, pendingHeader_.csumStart, pendingHeader_.csumOffset);
  return true;
}

bool TunDevice::EmitPending(const BatchArgs& a, size_t* cursor, uint32_t* count) {
  size_t free = a.bufLength - *cursor;
  if (pendingHeader_.gsoType == kVnetGsoNone) {
    if (pendingLength_ > free) return false;
    memcpy(a.buf + *cursor, scratch_.data(), pendingLength_);
    a.offsets[*count] = static_cast<uint32_t>(*cursor);
    a.lengths[*count] = static_cast<uint32_t>(pendingLength_);
    *cursor += pendingLength_;
    (*count)++;
    pendingLength_ = 0;
    return true;
  }
  if (pendingHeader_.gsoType != kVnetGsoTcpV4) {
    pendingLength_ = 0;  // never asked for (TSO6, UDP): drop rather than pass on a partial packet
    return true;
  }
  uint32_t segments = SplitTcpGso(scratch_.data(), pendingLength_, pendingHeader_.gsoSize, a.buf + *cursor, free,
                                  a.maxPackets - *count, a.offsets + *count, a.lengths + *count);
  if (segments == 0) return false;  // does not fit (or cannot be split): the caller decides
  for (uint32_t k = 0; k < segments; k++) a.offsets[*count + k] += static_cast<uint32_t>(*cursor);
  *count += segments;
  *cursor = a.offsets[*count - 1] + a.lengths[*count - 1];
  splitReads_++;
  pendingLength_ = 0;
  return true;
}

uint32_t TunDevice::WriteWithHeaders(const BatchArgs& a, const uint8_t* verdicts, size_t verdictsLength, bool* badPacket,
                                     uint32_t* badIndex) {
  auto accepted = [&](uint32_t i) { return verdicts == nullptr || (i < verdictsLength && verdicts[i] != 0); };
  auto inside = [&](uint32_t i) { return a.offsets[i] <= a.bufLength && a.lengths[i] <= a.bufLength - a.offsets[i]; };
  VnetHeader vnet;
  uint32_t written = 0;
  uint32_t i = 0;
  while (i < a.maxPackets) {
    if (!accepted(i)) {
      i++;
      continue;
    }
    if (!inside(i)) {
      *badPacket = true;
      *badIndex = i;
      return written;
    }
    uint8_t* first = a.buf + a.offsets[i];
    size_t length = a.lengths[i];
    iov_[0] = {&vnet, sizeof vnet};
    iov_[1] = {first, length};
    size_t iovCount = 2;
    uint32_t members = 1;
    uint32_t next = i + 1;
    TcpRunHead head;
    if (coalesce_ && TcpRunCandidate(first, length, &head)) {
      const uint8_t* last = first;
      uint32_t lastPayload = head.payload;
      size_t runBytes = length;
      while (next < a.maxPackets && members < kMaxRun && accepted(next) && inside(next)) {
        const uint8_t* candidate = a.buf + a.offsets[next];
        if (!TcpRunContinues(first, head, last, lastPayload, candidate, a.lengths[next], runBytes)) break;
        lastPayload = static_cast<uint32_t>(a.lengths[next] - 20 - head.tcpHeader);
        iov_[iovCount++] = {const_cast<uint8_t*>(candidate) + 20 + head.tcpHeader, lastPayload};
        runBytes += lastPayload;
        last = candidate;
        members++;
        next++;
      }
      if (members > 1) {
        // Keep the first header's original bytes: if the kernel refuses the merged write, the
        // run goes out again segment by segment.
        uint8_t saved[40];
        memcpy(saved, first, 40);
        TcpRunFinish(first, head, static_cast<uint32_t>(runBytes), last[20 + 13], &vnet);
        ssize_t n;
        do n = writev(poll_.fd(), iov_.data(), static_cast<int>(iovCount));
        while (n < 0 && errno == EINTR);
        if (n >= 0) {
          written += members;
          mergedWrites_++;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
          // the kernel's queue is full: the run is dropped, as single packets would be
        } else {
          memcpy(first, saved, 40);
          coalesce_ = false;
          continue;  // same i, now without merging
        }
        i = next;
        continue;
      }
    }
    memset(&vnet, 0, sizeof vnet);
    ssize_t n;
    do n = writev(poll_.fd(), iov_.data(), 2);
    while (n < 0 && errno == EINTR);
    if (n >= 0) written++;
    i++;
  }
  return written;
}
