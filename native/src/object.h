// One libbpf bpf_object with its links and readers. Arguments arrive validated from
// TypeScript (src/core/native.ts); this layer only maps calls onto libbpf.
#pragma once
#include <napi.h>

#include <map>
#include <memory>
#include <vector>

#include "reader.h"

struct bpf_object;
struct bpf_link;
struct bpf_map;
struct bpf_program;

namespace eunomia {

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit BpfObject(const Napi::CallbackInfo& info);
  ~BpfObject() override;
  void Destroy();  // detach and free everything; idempotent
  bool FinishLoad(bool ok);

 private:
  Napi::Value Programs(const Napi::CallbackInfo& info);
  Napi::Value Maps(const Napi::CallbackInfo& info);
  Napi::Value GetInitialValue(const Napi::CallbackInfo& info);
  Napi::Value SetInitialValue(const Napi::CallbackInfo& info);
  Napi::Value SetMaxEntries(const Napi::CallbackInfo& info);
  Napi::Value SetAutoload(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value LoadAsync(const Napi::CallbackInfo& info);
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value AttachUprobe(const Napi::CallbackInfo& info);
  Napi::Value AttachPerfEvent(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value MapLookup(const Napi::CallbackInfo& info);
  Napi::Value MapUpdate(const Napi::CallbackInfo& info);
  Napi::Value MapDelete(const Napi::CallbackInfo& info);
  Napi::Value MapNextKey(const Napi::CallbackInfo& info);
  Napi::Value MapLookupBatch(const Napi::CallbackInfo& info);
  Napi::Value OpenReader(const Napi::CallbackInfo& info);
  Napi::Value ReaderStats(const Napi::CallbackInfo& info);
  Napi::Value CloseReader(const Napi::CallbackInfo& info);
  Napi::Value ProgramInfo(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value CloseAsync(const Napi::CallbackInfo& info);
  Napi::Value DetachAllAsync(const Napi::CallbackInfo& info);

  bpf_object* Obj(Napi::Env env) const;
  bpf_map* Map(Napi::Env env, const Napi::Value& name) const;
  bpf_program* Prog(Napi::Env env, const Napi::Value& name) const;
  int AddLink(Napi::Env env, bpf_link* link, const char* what, const std::string& log);

  bpf_object* obj_ = nullptr;
  bool loaded_ = false;
  bool loading_ = false;           // a LoadWorker has obj_
  bool close_after_load_ = false;  // closed while loading
  std::vector<char> buffer_;  // keeps an in-memory ELF alive for libbpf
  std::map<int, bpf_link*> links_;
  std::map<int, std::unique_ptr<Reader>> readers_;
  int next_id_ = 1;
};

// A JS Error carrying errno and the captured libbpf log.
Napi::Error LibbpfError(Napi::Env env, const std::string& what, int err, const std::string& log);
[[noreturn]] void ThrowLibbpf(Napi::Env env, const std::string& what, int err, const std::string& log);

}  // namespace eunomia
