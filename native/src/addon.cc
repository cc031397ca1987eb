// meshfilter's native part: the TUN device, a batched UDP socket, and WireGuard's
// data-path crypto (batched ChaCha20-Poly1305 and keyed BLAKE2s from Node's OpenSSL), and
// a byte copy between arrays for the multi-queue agent's rings.
#include <napi.h>

#include "copy_bytes.h"
#include "tun_device.h"
#include "udp_socket.h"
#include "wireguard_crypto.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("TunDevice", TunDevice::Define(env));
  exports.Set("UdpSocket", UdpSocket::Define(env));
  exports.Set("KeyTable", KeyTable::Define(env));
  exports.Set("blake2sMac", Napi::Function::New(env, Blake2sMac, "blake2sMac"));
  exports.Set("copyBytes", Napi::Function::New(env, CopyBytes, "copyBytes"));
  return exports;
}

NODE_API_MODULE(meshfilter_native, Init)
