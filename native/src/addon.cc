// meshfilter's native part: the TUN device and a batched UDP socket, nothing else.
#include <napi.h>

#include "tun_device.h"
#include "udp_socket.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("TunDevice", TunDevice::Define(env));
  exports.Set("UdpSocket", UdpSocket::Define(env));
  return exports;
}

NODE_API_MODULE(meshfilter_native, Init)
