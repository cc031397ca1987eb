#include "wireguard_crypto.h"

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <string.h>

#include <string>

// A transport data message (WireGuard paper, section 5.4.6): type(4) receiver(4)
// counter(8, little-endian), then the sealed packet and its 16-byte tag. The AEAD nonce
// is 4 zero bytes and the counter, i.e. bytes 4..16 of the header with the first four zeroed.
static constexpr uint32_t kHeader = 16;
static constexpr uint32_t kTag = 16;

Napi::Function KeyTable::Define(Napi::Env env) {
  return DefineClass(env, "KeyTable",
                     {
                         InstanceMethod<&KeyTable::SetKey>("setKey"),
                         InstanceMethod<&KeyTable::ClearKey>("clearKey"),
                         InstanceMethod<&KeyTable::Seal>("seal"),
                         InstanceMethod<&KeyTable::Open>("open"),
                     });
}

KeyTable::KeyTable(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KeyTable>(info) {}

KeyTable::~KeyTable() {
  for (Slot& slot : slots_) Free(&slot);
}

void KeyTable::Free(Slot* slot) {
  if (slot->seal) EVP_CIPHER_CTX_free(slot->seal);
  if (slot->open) EVP_CIPHER_CTX_free(slot->open);
  slot->seal = slot->open = nullptr;
}

static bool TypedArrayOf(const Napi::Value& v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

// setKey(slot: number, key: Uint8Array(32))
Napi::Value KeyTable::SetKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !TypedArrayOf(info[1], napi_uint8_array) ||
      info[1].As<Napi::Uint8Array>().ElementLength() != 32) {
    Napi::TypeError::New(env, "setKey(slot, key): slot a number, key a 32-byte Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t index = info[0].As<Napi::Number>().Uint32Value();
  if (index >= 1u << 20) {
    Napi::RangeError::New(env, "setKey: slot " + std::to_string(index) + " out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (index >= slots_.size()) slots_.resize(index + 1);
  Slot& slot = slots_[index];
  Free(&slot);
  const uint8_t* key = info[1].As<Napi::Uint8Array>().Data();
  slot.seal = EVP_CIPHER_CTX_new();
  slot.open = EVP_CIPHER_CTX_new();
  if (!slot.seal || !slot.open || EVP_EncryptInit_ex(slot.seal, EVP_chacha20_poly1305(), nullptr, key, nullptr) != 1 ||
      EVP_DecryptInit_ex(slot.open, EVP_chacha20_poly1305(), nullptr, key, nullptr) != 1) {
    Free(&slot);
    Napi::Error::New(env, "setKey: OpenSSL refused ChaCha20-Poly1305").ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// clearKey(slot: number): frees the slot's contexts (and with them the key).
Napi::Value KeyTable::ClearKey(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber()) {
    uint32_t index = info[0].As<Napi::Number>().Uint32Value();
    if (index < slots_.size()) Free(&slots_[index]);
  }
  return info.Env().Undefined();
}

static void NonceOf(const uint8_t* header, uint8_t nonce[12]) {
  memset(nonce, 0, 4);
  memcpy(nonce + 4, header + 8, 8);
}

// seal(src, srcOffsets, srcLengths, count, dst, dstOffsets, dstLengths, slots: Int32Array):
// for each i < count with slots[i] >= 0, the caller has written message i's 16-byte
// header at dst[dstOffsets[i]] and chosen its length dstLengths[i] (16 + padded packet +
// 16: the padding is the caller's, which caps it at the MTU as wireguard-go does); this
// copies packet i after the header, zero-pads it, encrypts it in place under slot
// slots[i] and appends the tag. Returns how many were sealed.
Napi::Value KeyTable::Seal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 8 || !TypedArrayOf(info[0], napi_uint8_array) || !TypedArrayOf(info[1], napi_uint32_array) ||
      !TypedArrayOf(info[2], napi_uint32_array) || !info[3].IsNumber() || !TypedArrayOf(info[4], napi_uint8_array) ||
      !TypedArrayOf(info[5], napi_uint32_array) || !TypedArrayOf(info[6], napi_uint32_array) ||
      !TypedArrayOf(info[7], napi_int32_array)) {
    Napi::TypeError::New(env, "seal(src, srcOffsets, srcLengths, count, dst, dstOffsets, dstLengths, slots): wrong argument types")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array src = info[0].As<Napi::Uint8Array>(), dst = info[4].As<Napi::Uint8Array>();
  Napi::Uint32Array srcOffsets = info[1].As<Napi::Uint32Array>(), srcLengths = info[2].As<Napi::Uint32Array>();
  Napi::Uint32Array dstOffsets = info[5].As<Napi::Uint32Array>(), dstLengths = info[6].As<Napi::Uint32Array>();
  Napi::Int32Array slotOf = info[7].As<Napi::Int32Array>();
  size_t count = std::min<size_t>({info[3].As<Napi::Number>().Uint32Value(), srcOffsets.ElementLength(), srcLengths.ElementLength(),
                                   dstOffsets.ElementLength(), dstLengths.ElementLength(), slotOf.ElementLength()});
  uint32_t sealed = 0;
  uint8_t nonce[12];
  for (size_t i = 0; i < count; i++) {
    int32_t s = slotOf[i];
    if (s < 0 || static_cast<size_t>(s) >= slots_.size() || !slots_[s].seal) continue;
    size_t len = srcLengths[i], so = srcOffsets[i], d = dstOffsets[i], wire = dstLengths[i];
    if (wire < kHeader + kTag + len || so + len > src.ElementLength() || d + wire > dst.ElementLength()) {
      slotOf[i] = -1;
      continue;
    }
    size_t padded = wire - kHeader - kTag;
    uint8_t* out = dst.Data() + d;
    memmove(out + kHeader, src.Data() + so, len);
    memset(out + kHeader + len, 0, padded - len);
    EVP_CIPHER_CTX* ctx = slots_[s].seal;
    NonceOf(out, nonce);
    int n = 0, m = 0;
    if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, out + kHeader, &n, out + kHeader, static_cast<int>(padded)) != 1 ||
        EVP_EncryptFinal_ex(ctx, out + kHeader + n, &m) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTag, out + kHeader + padded) != 1) {
      slotOf[i] = -1;
      continue;
    }
    sealed++;
  }
  return Napi::Number::New(env, sealed);
}

// open(buf, offsets, lengths, count, slots: Int32Array, ok: Uint8Array): for each i <
// count with slots[i] >= 0, decrypts message i (header, ciphertext, tag) in place under
// slot slots[i]; ok[i] = 1 when the tag authenticated it, else 0. The plaintext is at
// offset + 16, lengths[i] - 32 bytes (padding included). Returns how many authenticated.
Napi::Value KeyTable::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !TypedArrayOf(info[0], napi_uint8_array) || !TypedArrayOf(info[1], napi_uint32_array) ||
      !TypedArrayOf(info[2], napi_uint32_array) || !info[3].IsNumber() || !TypedArrayOf(info[4], napi_int32_array) ||
      !TypedArrayOf(info[5], napi_uint8_array)) {
    Napi::TypeError::New(env, "open(buf, offsets, lengths, count, slots, ok): wrong argument types").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
  Napi::Uint32Array offsets = info[1].As<Napi::Uint32Array>(), lengths = info[2].As<Napi::Uint32Array>();
  Napi::Int32Array slotOf = info[4].As<Napi::Int32Array>();
  Napi::Uint8Array ok = info[5].As<Napi::Uint8Array>();
  size_t count = std::min<size_t>({info[3].As<Napi::Number>().Uint32Value(), offsets.ElementLength(), lengths.ElementLength(),
                                   slotOf.ElementLength(), ok.ElementLength()});
  uint32_t opened = 0;
  uint8_t nonce[12];
  for (size_t i = 0; i < count; i++) {
    ok[i] = 0;
    int32_t s = slotOf[i];
    if (s < 0 || static_cast<size_t>(s) >= slots_.size() || !slots_[s].open) continue;
    size_t off = offsets[i], len = lengths[i];
    if (len < kHeader + kTag || off + len > buf.ElementLength()) continue;
    uint8_t* msg = buf.Data() + off;
    size_t body = len - kHeader - kTag;
    EVP_CIPHER_CTX* ctx = slots_[s].open;
    NonceOf(msg, nonce);
    int n = 0, m = 0;
    if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_DecryptUpdate(ctx, msg + kHeader, &n, msg + kHeader, static_cast<int>(body)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTag, msg + kHeader + body) != 1 ||
        EVP_DecryptFinal_ex(ctx, msg + kHeader + n, &m) != 1) {
      continue;
    }
    ok[i] = 1;
    opened++;
  }
  return Napi::Number::New(env, opened);
}

Napi::Value Blake2sMac(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !TypedArrayOf(info[0], napi_uint8_array) || !TypedArrayOf(info[1], napi_uint8_array) ||
      !TypedArrayOf(info[2], napi_uint8_array)) {
    Napi::TypeError::New(env, "blake2sMac(key, data, out): three Uint8Arrays").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array key = info[0].As<Napi::Uint8Array>(), data = info[1].As<Napi::Uint8Array>(), out = info[2].As<Napi::Uint8Array>();
  size_t size = out.ElementLength();
  if (key.ElementLength() < 1 || key.ElementLength() > 32 || size < 1 || size > 32) {
    Napi::RangeError::New(env, "blake2sMac: key and output must be 1 to 32 bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_BLAKE2SMAC, nullptr);
  EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_construct_end()};
  size_t written = 0;
  bool done = ctx && EVP_MAC_init(ctx, key.Data(), key.ElementLength(), params) == 1 &&
              EVP_MAC_update(ctx, data.Data(), data.ElementLength()) == 1 &&
              EVP_MAC_final(ctx, out.Data(), &written, size) == 1 && written == size;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  if (!done) Napi::Error::New(env, "blake2sMac: OpenSSL's BLAKE2SMAC failed").ThrowAsJavaScriptException();
  return env.Undefined();
}
