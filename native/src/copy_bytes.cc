#include "copy_bytes.h"

#include <cstring>

static bool Bytes(const Napi::Value& v, uint8_t** data, size_t* length) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return false;
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  *data = a.Data();
  *length = a.ElementLength();
  return true;
}

Napi::Value CopyBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *src = nullptr, *dst = nullptr;
  size_t srcLength = 0, dstLength = 0;
  if (info.Length() < 5 || !Bytes(info[0], &src, &srcLength) || !info[1].IsNumber() || !Bytes(info[2], &dst, &dstLength) ||
      !info[3].IsNumber() || !info[4].IsNumber()) {
    Napi::TypeError::New(env, "copyBytes(src, srcOffset, dst, dstOffset, length): Uint8Arrays and numbers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  double srcOffset = info[1].As<Napi::Number>().DoubleValue(), dstOffset = info[3].As<Napi::Number>().DoubleValue();
  double length = info[4].As<Napi::Number>().DoubleValue();
  if (!(srcOffset >= 0 && dstOffset >= 0 && length >= 0 && srcOffset + length <= static_cast<double>(srcLength) &&
        dstOffset + length <= static_cast<double>(dstLength))) {
    Napi::RangeError::New(env, "copyBytes: the range lies outside the source or the destination").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::memmove(dst + static_cast<size_t>(dstOffset), src + static_cast<size_t>(srcOffset), static_cast<size_t>(length));
  return Napi::Number::New(env, length);
}
