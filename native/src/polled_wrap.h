// The JavaScript surface the TUN device and the UDP socket share. Each owns one
// non-blocking fd watched by a PollHandle and exposes it the same way: the `fd` and
// `closed` accessors and the `onReadable(callback)`, `pause()` and `close()` methods.
// A class derives from PolledObjectWrap<itself> (like Napi::ObjectWrap) and appends
// PollMembers() to the properties it passes to DefineClass.
#pragma once

#include <napi.h>

#include <vector>

#include "poll_handle.h"

template <typename T>
class PolledObjectWrap : public Napi::ObjectWrap<T> {
 public:
  explicit PolledObjectWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info) {}

 protected:
  using Property = typename Napi::ObjectWrap<T>::PropertyDescriptor;
  using Wrap = Napi::ObjectWrap<T>;

  // Appends fd, closed, onReadable, pause and close to a DefineClass property list.
  static void PollMembers(std::vector<Property>* properties) {
    properties->push_back(Wrap::InstanceAccessor("fd", &PolledObjectWrap::GetFd, nullptr));
    properties->push_back(Wrap::InstanceAccessor("closed", &PolledObjectWrap::GetClosed, nullptr));
    properties->push_back(Wrap::InstanceMethod("onReadable", &PolledObjectWrap::OnReadable));
    properties->push_back(Wrap::InstanceMethod("pause", &PolledObjectWrap::Pause));
    properties->push_back(Wrap::InstanceMethod("close", &PolledObjectWrap::Close));
  }

  PollHandle poll_;

 private:
  Napi::Value GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), poll_.fd()); }
  Napi::Value GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), poll_.closed()); }

  Napi::Value OnReadable(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(env, "onReadable(callback): callback must be a function").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    poll_.Start(env, info[0].As<Napi::Function>(), info.This().As<Napi::Object>());
    return env.Undefined();
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    poll_.Stop();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    poll_.Close();
    return info.Env().Undefined();
  }
};
