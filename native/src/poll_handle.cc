#include "poll_handle.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <string>

void ThrowSystemError(Napi::Env env, int err, const char* syscall, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  const char* code = nullptr;
  switch (err) {
    case ENOENT: code = "ENOENT"; break;
    case EPERM: code = "EPERM"; break;
    case EACCES: code = "EACCES"; break;
    case EBUSY: code = "EBUSY"; break;
    case EINVAL: code = "EINVAL"; break;
    case EADDRINUSE: code = "EADDRINUSE"; break;
    case EADDRNOTAVAIL: code = "EADDRNOTAVAIL"; break;
    case ENODEV: code = "ENODEV"; break;
    case EBADF: code = "EBADF"; break;
    default: code = "ERR_SYSTEM"; break;
  }
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.ThrowAsJavaScriptException();
}

PollHandle::~PollHandle() { Close(); }

void PollHandle::Attach(napi_env env, int fd) {
  env_ = env;
  fd_ = fd;
  if (napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok) hook_ = true;
}

bool PollHandle::Start(Napi::Env env, Napi::Function callback, Napi::Object owner) {
  if (fd_ < 0) {
    ThrowSystemError(env, EBADF, "uv_poll_start", "the device is closed");
    return false;
  }
  if (poll_ == nullptr) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      Napi::Error::New(env, "cannot get the event loop").ThrowAsJavaScriptException();
      return false;
    }
    poll_ = new uv_poll_t;
    int err = uv_poll_init(loop, poll_, fd_);
    if (err != 0) {
      delete poll_;
      poll_ = nullptr;
      ThrowSystemError(env, -err, "uv_poll_init", std::string("cannot watch the fd: ") + uv_strerror(err));
      return false;
    }
    poll_->data = this;
  }
  callback_ = Napi::Persistent(callback);
  if (owner_.IsEmpty()) owner_ = Napi::Persistent(owner);
  int err = uv_poll_start(poll_, UV_READABLE, OnPoll);
  if (err != 0) {
    ThrowSystemError(env, -err, "uv_poll_start", std::string("cannot watch the fd: ") + uv_strerror(err));
    return false;
  }
  polling_ = true;
  return true;
}

void PollHandle::Stop() {
  if (poll_ != nullptr && polling_) uv_poll_stop(poll_);
  polling_ = false;
  // Dropping the owner reference lets an idle, forgotten device be collected (and closed).
  if (!owner_.IsEmpty()) owner_.Reset();
}

void PollHandle::Close() {
  if (poll_ != nullptr) {
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  polling_ = false;
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (hook_) {
    napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    hook_ = false;
  }
  if (!owner_.IsEmpty()) owner_.Reset();
  if (!callback_.IsEmpty()) callback_.Reset();
}

void PollHandle::OnEnvCleanup(void* arg) {
  PollHandle* self = static_cast<PollHandle*>(arg);
  // The hook is being consumed by the environment: do not try to remove it again.
  self->hook_ = false;
  self->Close();
}

void PollHandle::OnPoll(uv_poll_t* handle, int status, int events) {
  PollHandle* self = static_cast<PollHandle*>(handle->data);
  if (self == nullptr || self->callback_.IsEmpty()) return;
  (void)events;
  Napi::Env env(self->env_);
  Napi::HandleScope scope(env);
  // A poll error (status < 0) is reported to the callback, which reads and gets the real errno.
  Napi::Value arg = status < 0 ? Napi::Value(Napi::String::New(env, uv_strerror(status))) : env.Undefined();
  Napi::Object owner = self->owner_.IsEmpty() ? Napi::Object::New(env) : self->owner_.Value();
  napi_value argv[1] = {arg};
  napi_value result;
  // napi_make_callback runs queued microtasks afterwards, as any I/O callback in Node does.
  napi_status st = napi_make_callback(self->env_, nullptr, owner, self->callback_.Value(), status < 0 ? 1 : 0, argv, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(self->env_, &pending);
    if (pending) {
      napi_value exception;
      napi_get_and_clear_last_exception(self->env_, &exception);
      napi_fatal_exception(self->env_, exception);
    }
  }
}
