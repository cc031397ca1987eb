// The argument shape shared by the batched read/write calls: a byte buffer plus
// offsets/lengths arrays (Uint32Array) and a packet count, checked once per call.
#pragma once

#include <napi.h>

#include <algorithm>
#include <string>

struct BatchArgs {
  uint8_t* buf = nullptr;
  size_t bufLength = 0;
  uint32_t* offsets = nullptr;
  uint32_t* lengths = nullptr;
  uint32_t maxPackets = 0;  // min(count argument, offsets length, lengths length)
};

inline bool ParseBatchArgs(const Napi::CallbackInfo& info, const char* signature, BatchArgs* out) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray() ||
      !info[3].IsNumber()) {
    Napi::TypeError::New(env, std::string(signature) + ": expected (Uint8Array, Uint32Array, Uint32Array, number)")
        .ThrowAsJavaScriptException();
    return false;
  }
  Napi::TypedArray b = info[0].As<Napi::TypedArray>(), o = info[1].As<Napi::TypedArray>(), l = info[2].As<Napi::TypedArray>();
  if (b.TypedArrayType() != napi_uint8_array || o.TypedArrayType() != napi_uint32_array ||
      l.TypedArrayType() != napi_uint32_array) {
    Napi::TypeError::New(env, std::string(signature) + ": buf must be a Uint8Array, offsets and lengths Uint32Arrays")
        .ThrowAsJavaScriptException();
    return false;
  }
  Napi::Uint8Array buf = b.As<Napi::Uint8Array>();
  Napi::Uint32Array offsets = o.As<Napi::Uint32Array>(), lengths = l.As<Napi::Uint32Array>();
  out->buf = buf.Data();
  out->bufLength = buf.ElementLength();
  out->offsets = offsets.Data();
  out->lengths = lengths.Data();
  double count = info[3].As<Napi::Number>().DoubleValue();
  uint32_t n = count > 0 ? static_cast<uint32_t>(std::min(count, 4294967295.0)) : 0;
  out->maxPackets = static_cast<uint32_t>(std::min<size_t>({n, offsets.ElementLength(), lengths.ElementLength()}));
  return true;
}
