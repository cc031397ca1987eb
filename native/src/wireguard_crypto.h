// WireGuard's data-path AEAD and its keyed BLAKE2s, through the OpenSSL inside Node
// (its headers ship with Node and the node binary exports its symbols): no primitive
// is written here. A KeyTable holds ChaCha20-Poly1305 contexts by slot number, one
// slot per transport key, so sealing or opening a packet only sets its nonce.
// seal/open handle a whole batch per call (bench/RESULTS.md, "WireGuard data-path AEAD").
#pragma once

#include <napi.h>
#include <openssl/evp.h>

#include <vector>

class KeyTable : public Napi::ObjectWrap<KeyTable> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit KeyTable(const Napi::CallbackInfo& info);
  ~KeyTable();

 private:
  struct Slot {
    EVP_CIPHER_CTX* seal = nullptr;
    EVP_CIPHER_CTX* open = nullptr;
  };
  Napi::Value SetKey(const Napi::CallbackInfo& info);
  Napi::Value ClearKey(const Napi::CallbackInfo& info);
  Napi::Value Seal(const Napi::CallbackInfo& info);
  Napi::Value Open(const Napi::CallbackInfo& info);
  void Free(Slot* slot);

  std::vector<Slot> slots_;
};

// blake2sMac(key: Uint8Array, data: Uint8Array, out: Uint8Array): keyed BLAKE2s with an
// output of out.length bytes (1-32), as WireGuard's MAC(key, input).
Napi::Value Blake2sMac(const Napi::CallbackInfo& info);
