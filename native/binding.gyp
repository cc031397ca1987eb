{
  "targets": [
    {
      "target_name": "meshfilter_native",
      "sources": ["src/addon.cc", "src/copy_bytes.cc", "src/poll_handle.cc", "src/tcp_offload.cc", "src/tun_device.cc", "src/udp_socket.cc", "src/wireguard_crypto.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
