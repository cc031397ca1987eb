// A Linux TUN device (IFF_TUN | IFF_NO_PI, optionally IFF_MULTI_QUEUE) exposed to
// JavaScript with batched, non-blocking reads and writes over one caller-owned buffer.
// With offload (IFF_VNET_HDR), every read and write carries a virtio-net header, which
// this class strips and fills, so JavaScript still sees plain IP packets: reads split the
// kernel's large TCP packets into segments, writes merge runs of TCP segments into one
// GSO write (tcp_offload.h).
#pragma once

#include <napi.h>

#include <sys/uio.h>

#include <string>
#include <vector>

#include "polled_wrap.h"
#include "vnet_header.h"

class TunDevice : public PolledObjectWrap<TunDevice> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit TunDevice(const Napi::CallbackInfo& info);

 private:
  Napi::Value GetName(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value GetOffload(const Napi::CallbackInfo& info);
  Napi::Value GetMergedWrites(const Napi::CallbackInfo& info);
  Napi::Value GetSplitReads(const Napi::CallbackInfo& info);
  // Writes packets with virtio-net headers, merging TCP runs; returns packets written.
  uint32_t WriteWithHeaders(const struct BatchArgs& a, const uint8_t* verdicts, size_t verdictsLength, bool* badPacket,
                            uint32_t* badIndex);

  std::string name_;
  bool vnet_ = false;      // IFF_VNET_HDR: reads and writes carry a virtio-net header
  bool coalesce_ = true;   // cleared if the kernel ever refuses a merged write
  double mergedWrites_ = 0;  // writes that carried a merged run of TCP segments
  double splitReads_ = 0;    // large (GSO) packets read and split into segments
  std::vector<struct iovec> iov_;
  // Offload reads: the kernel hands over TCP GSO packets of up to 64 KiB, read here first
  // and split into `buf`. One that did not fit the caller's buffer waits for the next read.
  std::vector<uint8_t> scratch_;
  size_t pendingLength_ = 0;
  VnetHeader pendingHeader_{};
  bool ReadIntoScratch(int* error);
  // Moves the pending packet into the batch; false when it does not fit (it stays pending).
  bool EmitPending(const struct BatchArgs& a, size_t* cursor, uint32_t* count);
};
