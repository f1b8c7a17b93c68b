// Entry point of the native binding: the BpfObject class and a few global helpers.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <napi.h>
#include <malloc.h>
#include <sys/mount.h>

#include <cerrno>

#include "log.h"
#include "object.h"

namespace eunomia {
void CloseAllObjects();
}

namespace {

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), libbpf_num_possible_cpus());
}

Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}

// mountTracefs(target) -> 0 or errno. libbpf finds tracepoint ids in tracefs, which some
// hosts do not mount.
Napi::Value MountTracefs(const Napi::CallbackInfo& info) {
  std::string target = info[0].As<Napi::String>().Utf8Value();
  int rc = mount("tracefs", target.c_str(), "tracefs", 0, nullptr);
  return Napi::Number::New(info.Env(), rc == 0 ? 0 : errno);
}

// enableBpfStats() -> fd, or -errno. The kernel counts every program's run time while this fd
// is open (BPF_ENABLE_STATS), and stops when it is closed: nothing outlives the agent, unlike
// the kernel.bpf_stats_enabled sysctl.
Napi::Value EnableBpfStats(const Napi::CallbackInfo& info) {
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  return Napi::Number::New(info.Env(), fd >= 0 ? fd : -errno);
}

// trimMemory() -> whether any was released. Loading an object makes libbpf parse the kernel's
// BTF (megabytes, freed after the load); glibc keeps freed memory for reuse unless told.
Napi::Value TrimMemory(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), malloc_trim(0) == 1);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // A fixed mmap threshold: glibc otherwise raises it to the size of each large block freed
  // (libbpf's copy of the kernel BTF, megabytes, per load), after which such blocks come from the
  // heap and leave it fragmented. Measured on the idle server: 14 → 5 MiB of heap, 100 → 86 MiB
  // RSS. Above the readers' batches (256 KiB, reader.h): at that size each batch was an mmap and
  // munmap, and the server's CPU per event went from 0.9 to 2.5 µs.
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
  eunomia::InstallLibbpfLogger();
  exports.Set("BpfObject", eunomia::BpfObject::Init(env));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus));
  exports.Set("mountTracefs", Napi::Function::New(env, MountTracefs));
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion));
  exports.Set("enableBpfStats", Napi::Function::New(env, EnableBpfStats));
  exports.Set("trimMemory", Napi::Function::New(env, TrimMemory));
  // At environment teardown, stop reader threads and detach every program.
  napi_add_env_cleanup_hook(env, [](void*) { eunomia::CloseAllObjects(); }, nullptr);
  return exports;
}

}  // namespace

NODE_API_MODULE(eunomia, Init)
