// Copying bytes between two Uint8Arrays (any backing: ArrayBuffer or SharedArrayBuffer)
// without making a view object: the multi-queue agent hands packets between threads
// through shared-memory rings, once per packet (src/agent/packet-ring.ts).
#pragma once

#include <napi.h>

// copyBytes(src, srcOffset, dst, dstOffset, length): copies and returns length; throws
// RangeError when either range lies outside its array.
Napi::Value CopyBytes(const Napi::CallbackInfo& info);
