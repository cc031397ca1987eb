// A file descriptor watched for readability by libuv (uv_poll), shared by the TUN
// device and the UDP socket. Reads never block and never use the thread pool: the fd is
// non-blocking and JavaScript is called back on the main loop when it becomes readable,
// then drains it with batched reads. Closing is idempotent and also runs from an
// environment cleanup hook, so a worker or process exiting with the fd open never throws.
#pragma once

#include <napi.h>
#include <uv.h>

class PollHandle {
 public:
  PollHandle() = default;
  ~PollHandle();
  PollHandle(const PollHandle&) = delete;
  PollHandle& operator=(const PollHandle&) = delete;

  // Takes ownership of `fd` (closed by Close) and registers the cleanup hook.
  void Attach(napi_env env, int fd);
  int fd() const { return fd_; }
  bool closed() const { return fd_ < 0; }

  // Starts (or restarts) calling `callback` whenever the fd is readable. Returns false with a
  // pending JavaScript exception on failure.
  bool Start(Napi::Env env, Napi::Function callback, Napi::Object owner);
  // Stops callbacks; the fd stays open. Safe to call at any time.
  void Stop();
  // Stops callbacks, releases the uv handle and closes the fd. Safe to call repeatedly,
  // from a finalizer, or from the cleanup hook.
  void Close();

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnEnvCleanup(void* arg);

  napi_env env_ = nullptr;
  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;  // heap-owned: freed in its uv_close callback, which may run after we are gone
  bool polling_ = false;
  bool hook_ = false;
  Napi::FunctionReference callback_;
  Napi::ObjectReference owner_;  // keeps the JavaScript wrapper alive while callbacks are armed
};

// Throws a JavaScript Error with `code`, `errno` and `syscall` properties like Node's own errors.
void ThrowSystemError(Napi::Env env, int err, const char* syscall, const std::string& message);
