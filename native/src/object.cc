#include "object.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <thread>

#include "log.h"

namespace eunomia {

namespace {
// Every live object, so the environment cleanup hook can detach them all at exit.
std::set<BpfObject*> g_live;

std::string Str(const Napi::Value& v) { return v.As<Napi::String>().Utf8Value(); }
}  // namespace

Napi::Error LibbpfError(Napi::Env env, const std::string& what, int err, const std::string& log) {
  if (err < 0) err = -err;
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("log", Napi::String::New(env, log));
  return e;
}

void ThrowLibbpf(Napi::Env env, const std::string& what, int err, const std::string& log) {
  throw LibbpfError(env, what, err, log);
}

Napi::Function BpfObject::Init(Napi::Env env) {
  return DefineClass(env, "BpfObject",
                     {
                         InstanceMethod("programs", &BpfObject::Programs),
                         InstanceMethod("maps", &BpfObject::Maps),
                         InstanceMethod("getInitialValue", &BpfObject::GetInitialValue),
                         InstanceMethod("setInitialValue", &BpfObject::SetInitialValue),
                         InstanceMethod("setMaxEntries", &BpfObject::SetMaxEntries),
                         InstanceMethod("setAutoload", &BpfObject::SetAutoload),
                         InstanceMethod("load", &BpfObject::Load),
                         InstanceMethod("loadAsync", &BpfObject::LoadAsync),
                         InstanceMethod("attach", &BpfObject::Attach),
                         InstanceMethod("attachUprobe", &BpfObject::AttachUprobe),
                         InstanceMethod("attachPerfEvent", &BpfObject::AttachPerfEvent),
                         InstanceMethod("detach", &BpfObject::Detach),
                         InstanceMethod("mapLookup", &BpfObject::MapLookup),
                         InstanceMethod("mapUpdate", &BpfObject::MapUpdate),
                         InstanceMethod("mapDelete", &BpfObject::MapDelete),
                         InstanceMethod("mapNextKey", &BpfObject::MapNextKey),
                         InstanceMethod("mapLookupBatch", &BpfObject::MapLookupBatch),
                         InstanceMethod("openReader", &BpfObject::OpenReader),
                         InstanceMethod("readerStats", &BpfObject::ReaderStats),
                         InstanceMethod("closeReader", &BpfObject::CloseReader),
                         InstanceMethod("programInfo", &BpfObject::ProgramInfo),
                         InstanceMethod("close", &BpfObject::Close),
                         InstanceMethod("closeAsync", &BpfObject::CloseAsync),
                         InstanceMethod("detachAllAsync", &BpfObject::DetachAllAsync),
                     });
}

// new BpfObject(source: string | Buffer, name: string, btfPath: string)
// btfPath ('' = the kernel's own) is a minimized kernel BTF for CO-RE relocations.
BpfObject::BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
  Napi::Env env = info.Env();
  std::string name = Str(info[1]);
  std::string btf = Str(info[2]);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name.c_str(),
              .btf_custom_path = btf.empty() ? nullptr : btf.c_str());
  LogCapture cap;
  if (info[0].IsBuffer()) {
    auto buf = info[0].As<Napi::Buffer<char>>();
    buffer_.assign(buf.Data(), buf.Data() + buf.Length());
    obj_ = bpf_object__open_mem(buffer_.data(), buffer_.size(), &opts);
  } else {
    obj_ = bpf_object__open_file(Str(info[0]).c_str(), &opts);
  }
  if (obj_ == nullptr) ThrowLibbpf(env, "open", errno, cap.text());
  g_live.insert(this);
}

BpfObject::~BpfObject() { Destroy(); }

void BpfObject::Destroy() {
  // A worker thread is loading it: LoadWorker closes it when the load returns.
  if (loading_) {
    close_after_load_ = true;
    return;
  }
  // Readers first: their threads read maps that the object owns.
  for (auto& [id, r] : readers_) r->Stop();
  readers_.clear();
  for (auto& [id, l] : links_) bpf_link__destroy(l);
  links_.clear();
  if (obj_ != nullptr) bpf_object__close(obj_);
  obj_ = nullptr;
  buffer_.clear();
  g_live.erase(this);
}

bpf_object* BpfObject::Obj(Napi::Env env) const {
  if (obj_ == nullptr) throw Napi::Error::New(env, "object is closed");
  if (loading_) throw Napi::Error::New(env, "object is loading");
  return obj_;
}

bpf_map* BpfObject::Map(Napi::Env env, const Napi::Value& name) const {
  std::string n = Str(name);
  bpf_map* m = bpf_object__find_map_by_name(Obj(env), n.c_str());
  if (m == nullptr) throw Napi::Error::New(env, "no map named " + n);
  return m;
}

bpf_program* BpfObject::Prog(Napi::Env env, const Napi::Value& name) const {
  std::string n = Str(name);
  bpf_program* p = bpf_object__find_program_by_name(Obj(env), n.c_str());
  if (p == nullptr) throw Napi::Error::New(env, "no program named " + n);
  return p;
}

Napi::Value BpfObject::Programs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  bpf_program* p;
  uint32_t i = 0;
  bpf_object__for_each_program(p, Obj(env)) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_program__name(p));
    o.Set("section", bpf_program__section_name(p));
    o.Set("type", static_cast<double>(bpf_program__type(p)));
    o.Set("autoload", bpf_program__autoload(p));
    out.Set(i++, o);
  }
  return out;
}

Napi::Value BpfObject::Maps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  bpf_map* m;
  uint32_t i = 0;
  bpf_object__for_each_map(m, Obj(env)) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_map__name(m));
    o.Set("type", static_cast<double>(bpf_map__type(m)));
    o.Set("keySize", static_cast<double>(bpf_map__key_size(m)));
    o.Set("valueSize", static_cast<double>(bpf_map__value_size(m)));
    o.Set("maxEntries", static_cast<double>(bpf_map__max_entries(m)));
    o.Set("fd", static_cast<double>(bpf_map__fd(m)));
    o.Set("internal", bpf_map__is_internal(m));
    out.Set(i++, o);
  }
  return out;
}

// getInitialValue(map) -> Buffer | null (a copy of .rodata/.bss/.data contents)
Napi::Value BpfObject::GetInitialValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t size = 0;
  const void* v = bpf_map__initial_value(Map(env, info[0]), &size);
  if (v == nullptr) return env.Null();
  return Napi::Buffer<char>::Copy(env, static_cast<const char*>(v), size);
}

Napi::Value BpfObject::SetInitialValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto buf = info[1].As<Napi::Buffer<char>>();
  int err = bpf_map__set_initial_value(Map(env, info[0]), buf.Data(), buf.Length());
  if (err) ThrowLibbpf(env, "set initial value of " + Str(info[0]), err, "");
  return env.Undefined();
}

Napi::Value BpfObject::SetMaxEntries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int err = bpf_map__set_max_entries(Map(env, info[0]), info[1].As<Napi::Number>().Uint32Value());
  if (err) ThrowLibbpf(env, "set max entries of " + Str(info[0]), err, "");
  return env.Undefined();
}

Napi::Value BpfObject::SetAutoload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int err = bpf_program__set_autoload(Prog(env, info[0]), info[1].As<Napi::Boolean>().Value());
  if (err) ThrowLibbpf(env, "set autoload of " + Str(info[0]), err, "");
  return env.Undefined();
}

Napi::Value BpfObject::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LogCapture cap;
  int err = bpf_object__load(Obj(env));
  if (err) ThrowLibbpf(env, "load", err, cap.text());
  loaded_ = true;
  return Napi::String::New(env, cap.text());
}

namespace {

// The verifier's time (tens of ms per program here) spent on a libuv worker thread, so the
// objects of several trackers load in parallel and the event loop keeps running.
class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, BpfObject* self, Napi::Object js, bpf_object* obj)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), self_(self), obj_(obj) {
    js_ = Napi::Persistent(js);  // the object must outlive the load
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    LogCapture cap;
    err_ = bpf_object__load(obj_);
    log_ = cap.text();
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (self_->FinishLoad(err_ == 0)) {
      deferred_.Reject(Napi::Error::New(env, "object closed while loading").Value());
    } else if (err_ != 0) {
      deferred_.Reject(LibbpfError(env, "load", err_, log_).Value());
    } else {
      deferred_.Resolve(Napi::String::New(env, log_));
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  BpfObject* self_;
  Napi::ObjectReference js_;
  bpf_object* obj_;
  int err_ = 0;
  std::string log_;
};

}  // namespace

// loadAsync() -> Promise<string>: load() off the main thread; the object refuses other calls meanwhile.
Napi::Value BpfObject::LoadAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* w = new LoadWorker(env, this, info.This().As<Napi::Object>(), Obj(env));
  loading_ = true;
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// Called on the main thread when a LoadWorker is done; true if the object was closed meanwhile (now it is).
bool BpfObject::FinishLoad(bool ok) {
  loading_ = false;
  if (close_after_load_) {
    Destroy();
    return true;
  }
  loaded_ = ok;
  return false;
}

int BpfObject::AddLink(Napi::Env env, bpf_link* link, const char* what, const std::string& log) {
  if (link == nullptr) ThrowLibbpf(env, what, errno, log);
  int id = next_id_++;
  links_[id] = link;
  return id;
}

// attach(prog) -> link id; the attach point comes from the section name.
Napi::Value BpfObject::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* p = Prog(env, info[0]);
  LogCapture cap;
  bpf_link* l = bpf_program__attach(p);
  return Napi::Number::New(env, AddLink(env, l, "attach", cap.text()));
}

// attachUprobe(prog, binary, funcName ('' for none), offset, pid (-1 = all), retprobe, cookie (BigInt, u64))
Napi::Value BpfObject::AttachUprobe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* p = Prog(env, info[0]);
  std::string binary = Str(info[1]);
  std::string func = Str(info[2]);
  size_t offset = static_cast<size_t>(info[3].As<Napi::Number>().Int64Value());
  int pid = info[4].As<Napi::Number>().Int32Value();
  bool lossless = true;
  uint64_t cookie = info[6].As<Napi::BigInt>().Uint64Value(&lossless);
  LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie, .retprobe = info[5].As<Napi::Boolean>().Value(),
              .func_name = func.empty() ? nullptr : func.c_str());
  LogCapture cap;
  bpf_link* l = bpf_program__attach_uprobe_opts(p, pid, binary.c_str(), offset, &opts);
  return Napi::Number::New(env, AddLink(env, l, "attach uprobe", cap.text()));
}

// attachPerfEvent(prog, type, config, sample, isFreq, cpu, pid) -> link id
Napi::Value BpfObject::AttachPerfEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* p = Prog(env, info[0]);
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = info[1].As<Napi::Number>().Uint32Value();
  attr.config = static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value());
  attr.sample_period = static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value());
  attr.freq = info[4].As<Napi::Boolean>().Value() ? 1 : 0;
  int cpu = info[5].As<Napi::Number>().Int32Value();
  int pid = info[6].As<Napi::Number>().Int32Value();
  int fd = static_cast<int>(syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) ThrowLibbpf(env, "perf_event_open", errno, "");
  LogCapture cap;
  bpf_link* l = bpf_program__attach_perf_event(p, fd);
  if (l == nullptr) {
    int err = errno;
    close(fd);
    ThrowLibbpf(env, "attach perf event", err, cap.text());
  }
  // The link owns the perf event fd and closes it on destroy.
  return Napi::Number::New(env, AddLink(env, l, "attach perf event", ""));
}

Napi::Value BpfObject::Detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto it = links_.find(info[0].As<Napi::Number>().Int32Value());
  if (it == links_.end()) return Napi::Boolean::New(env, false);
  int err = bpf_link__destroy(it->second);
  links_.erase(it);
  if (err) ThrowLibbpf(env, "detach", err, "");
  return Napi::Boolean::New(env, true);
}

// mapLookup(map, key, valueSize) -> Buffer | null
Napi::Value BpfObject::MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* m = Map(env, info[0]);
  auto key = info[1].As<Napi::Buffer<char>>();
  size_t vsize = info[2].As<Napi::Number>().Uint32Value();
  Napi::Buffer<char> val = Napi::Buffer<char>::New(env, vsize);
  int err = bpf_map__lookup_elem(m, key.Data(), key.Length(), val.Data(), vsize, 0);
  if (err == -ENOENT) return env.Null();
  if (err) ThrowLibbpf(env, "lookup in map " + Str(info[0]), err, "");
  return val;
}

// mapUpdate(map, key, value, flags)
Napi::Value BpfObject::MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* m = Map(env, info[0]);
  auto key = info[1].As<Napi::Buffer<char>>();
  auto val = info[2].As<Napi::Buffer<char>>();
  int err = bpf_map__update_elem(m, key.Data(), key.Length(), val.Data(), val.Length(),
                                 static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value()));
  if (err) ThrowLibbpf(env, "update map " + Str(info[0]), err, "");
  return env.Undefined();
}

// mapDelete(map, key) -> false if absent
Napi::Value BpfObject::MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* m = Map(env, info[0]);
  auto key = info[1].As<Napi::Buffer<char>>();
  int err = bpf_map__delete_elem(m, key.Data(), key.Length(), 0);
  if (err == -ENOENT) return Napi::Boolean::New(env, false);
  if (err) ThrowLibbpf(env, "delete from map " + Str(info[0]), err, "");
  return Napi::Boolean::New(env, true);
}

// mapNextKey(map, key | null) -> Buffer | null at the end
Napi::Value BpfObject::MapNextKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* m = Map(env, info[0]);
  size_t ksize = bpf_map__key_size(m);
  Napi::Buffer<char> next = Napi::Buffer<char>::New(env, ksize);
  const void* cur = nullptr;
  size_t curlen = ksize;
  if (info[1].IsBuffer()) {
    auto k = info[1].As<Napi::Buffer<char>>();
    cur = k.Data();
    curlen = k.Length();
  }
  int err = bpf_map__get_next_key(m, cur, next.Data(), curlen);
  if (err == -ENOENT) return env.Null();
  if (err) ThrowLibbpf(env, "iterate map " + Str(info[0]), err, "");
  return next;
}

// mapLookupBatch(map, valueSize, deleteToo) -> { keys, values, count }
// Throws with errno EINVAL/ENOTSUP where the kernel has no batch ops for this map type.
// Reads BATCH entries per call into buffers of that size: buffers for max_entries (10,240
// per-CPU entries of ~800 bytes: 8 MB, zeroed every interval) cost an idle agent ~1 % of a
// core for the few entries an interval holds.
Napi::Value BpfObject::MapLookupBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* m = Map(env, info[0]);
  size_t vsize = info[1].As<Napi::Number>().Uint32Value();
  bool del = info[2].As<Napi::Boolean>().Value();
  int fd = bpf_map__fd(m);
  size_t ksize = bpf_map__key_size(m);
  uint32_t max = bpf_map__max_entries(m);
  constexpr uint32_t BATCH = 256;
  uint32_t step = max < BATCH ? max : BATCH;
  std::vector<char> kbuf(ksize * step), vbuf(vsize * step), keys, vals;
  // The batch cursor is opaque; a u64-aligned key-sized slot fits every map type.
  std::vector<char> in(ksize < 8 ? 8 : ksize), out(ksize < 8 ? 8 : ksize);
  uint32_t total = 0;
  bool first = true;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  while (total < max) {
    uint32_t count = step < max - total ? step : max - total;
    int err = del ? bpf_map_lookup_and_delete_batch(fd, first ? nullptr : in.data(), out.data(),
                                                    kbuf.data(), vbuf.data(), &count, &opts)
                  : bpf_map_lookup_batch(fd, first ? nullptr : in.data(), out.data(), kbuf.data(),
                                         vbuf.data(), &count, &opts);
    int e = err ? errno : 0;
    // A hash bucket holding more entries than fit: nothing was read; again with room for it.
    if (err && e == ENOSPC && count == 0 && step < max) {
      step = step * 2 < max ? step * 2 : max;
      kbuf.resize(ksize * step);
      vbuf.resize(vsize * step);
      continue;
    }
    keys.insert(keys.end(), kbuf.begin(), kbuf.begin() + count * ksize);
    vals.insert(vals.end(), vbuf.begin(), vbuf.begin() + count * vsize);
    total += count;
    if (err) {
      if (e == ENOENT) break;
      ThrowLibbpf(env, "batch lookup in map " + Str(info[0]), e, "");
    }
    std::swap(in, out);
    first = false;
  }
  Napi::Object res = Napi::Object::New(env);
  res.Set("keys", Napi::Buffer<char>::Copy(env, keys.data(), total * ksize));
  res.Set("values", Napi::Buffer<char>::Copy(env, vals.data(), total * vsize));
  res.Set("count", Napi::Number::New(env, total));
  return res;
}

// openReader(map, callback(batch, count), perf, pollMs, perfPages, batchBytes, maxQueuedBytes)
Napi::Value BpfObject::OpenReader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* m = Map(env, info[0]);
  ReaderOptions o;
  o.perf = info[2].As<Napi::Boolean>().Value();
  o.poll_ms = info[3].As<Napi::Number>().Int32Value();
  o.perf_pages = info[4].As<Napi::Number>().Uint32Value();
  o.batch_bytes = info[5].As<Napi::Number>().Uint32Value();
  o.max_queued_bytes = static_cast<size_t>(info[6].As<Napi::Number>().Int64Value());
  // Optional: the idle flag, as (global-data map name, byte offset) — see ReaderOptions.
  // The map is mmapped here (libbpf 1.1 keeps only a private copy of .bss after load).
  void* idle_map = nullptr;
  size_t idle_len = 0;
  if (info.Length() > 8 && info[7].IsString()) {
    bpf_map* data = bpf_object__find_map_by_name(Obj(env), Str(info[7]).c_str());
    uint32_t off = info[8].As<Napi::Number>().Uint32Value();
    if (data == nullptr || !(bpf_map__map_flags(data) & BPF_F_MMAPABLE) || off % 4 != 0 || off + 4 > bpf_map__value_size(data)) {
      throw Napi::Error::New(env, "idle flag: no such mmapable global at that offset");
    }
    long page = sysconf(_SC_PAGESIZE);
    idle_len = (bpf_map__value_size(data) + page - 1) / page * page;
    idle_map = mmap(nullptr, idle_len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(data), 0);
    if (idle_map == MAP_FAILED) throw Napi::Error::New(env, std::string("idle flag: mmap: ") + strerror(errno));
    o.idle_flag = reinterpret_cast<volatile uint32_t*>(static_cast<char*>(idle_map) + off);
    o.idle_map = idle_map;
    o.idle_len = idle_len;
  }
  LogCapture cap;
  auto r = std::make_unique<Reader>(env, bpf_map__fd(m), info[1].As<Napi::Function>(), o);
  int id = next_id_++;
  readers_[id] = std::move(r);
  return Napi::Number::New(env, id);
}

Napi::Value BpfObject::ReaderStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto it = readers_.find(info[0].As<Napi::Number>().Int32Value());
  if (it == readers_.end()) return env.Null();
  return it->second->Stats(env);
}

// closeReader(id) -> final stats; batches already queued are still delivered afterwards.
Napi::Value BpfObject::CloseReader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto it = readers_.find(info[0].As<Napi::Number>().Int32Value());
  if (it == readers_.end()) return env.Null();
  it->second->Stop();
  Napi::Object stats = it->second->Stats(env);
  readers_.erase(it);
  return stats;
}

// programInfo(prog) -> { id, runCount, runTimeNs } from the kernel (needs loading first)
Napi::Value BpfObject::ProgramInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = bpf_program__fd(Prog(env, info[0]));
  if (fd < 0) return env.Null();
  bpf_prog_info pi{};
  uint32_t len = sizeof(pi);
  int err = bpf_obj_get_info_by_fd(fd, &pi, &len);
  if (err) ThrowLibbpf(env, "program info", errno, "");
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", static_cast<double>(pi.id));
  o.Set("runCount", static_cast<double>(pi.run_cnt));
  o.Set("runTimeNs", static_cast<double>(pi.run_time_ns));
  return o;
}

Napi::Value BpfObject::Close(const Napi::CallbackInfo& info) {
  Destroy();
  return info.Env().Undefined();
}

namespace {

// Each detach waits for its own grace period; they are independent, so overlap them.
void DestroyLinks(const std::map<int, bpf_link*>& links) {
  std::vector<std::thread> threads;
  for (auto& [id, l] : links) threads.emplace_back([link = l] { bpf_link__destroy(link); });
  for (auto& t : threads) t.join();
}

// Detaching a tracepoint waits for RCU grace periods (~70 ms each here): do it on a libuv
// worker thread so the event loop keeps running.
class CloseWorker : public Napi::AsyncWorker {
 public:
  CloseWorker(Napi::Env env, bpf_object* obj, std::map<int, bpf_link*> links,
              std::map<int, std::unique_ptr<Reader>> readers, std::vector<char> buffer)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        obj_(obj),
        links_(std::move(links)),
        readers_(std::move(readers)),
        buffer_(std::move(buffer)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    for (auto& [id, r] : readers_) r->Stop();
    readers_.clear();
    DestroyLinks(links_);
    if (obj_ != nullptr) bpf_object__close(obj_);
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  Napi::Promise::Deferred deferred_;
  bpf_object* obj_;
  std::map<int, bpf_link*> links_;
  std::map<int, std::unique_ptr<Reader>> readers_;
  std::vector<char> buffer_;
};

}  // namespace

// detachAllAsync() -> Promise<void>: every link detached off the main thread; the object,
// its maps and readers stay, so what the programs produced can still be drained.
Napi::Value BpfObject::DetachAllAsync(const Napi::CallbackInfo& info) {
  auto* w = new CloseWorker(info.Env(), nullptr, std::move(links_), {}, {});
  links_.clear();
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// closeAsync() -> Promise<void>: like close(), off the main thread.
Napi::Value BpfObject::CloseAsync(const Napi::CallbackInfo& info) {
  if (loading_) {
    Destroy();  // closes it when the load returns
    auto d = Napi::Promise::Deferred::New(info.Env());
    d.Resolve(info.Env().Undefined());
    return d.Promise();
  }
  auto* w = new CloseWorker(info.Env(), obj_, std::move(links_), std::move(readers_), std::move(buffer_));
  obj_ = nullptr;
  links_.clear();
  readers_.clear();
  g_live.erase(this);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

void CloseAllObjects() {
  auto live = g_live;  // Destroy() edits g_live
  for (BpfObject* o : live) o->Destroy();
}

}  // namespace eunomia
