#include "reader.h"

#include <bpf/libbpf.h>

#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace eunomia {

namespace {
constexpr size_t kHeader = 8;  // u32 size, u32 cpu
// After this many empty polls the reader goes idle: it sleeps this long, and the next record
// wakes it (the programs force a wake-up while the idle flag is set).
constexpr int kIdleAfterPolls = 20;
constexpr int kIdleMs = 2000;
inline size_t Align8(size_t n) { return (n + 7) & ~size_t(7); }
}  // namespace

Reader::Reader(Napi::Env env, int map_fd, Napi::Function callback, const ReaderOptions& opts)
    : opts_(opts) {
  if (opts_.perf) {
    pb_ = perf_buffer__new(map_fd, opts_.perf_pages, OnPerf, OnPerfLost, this, nullptr);
    if (pb_ == nullptr) {
      int err = errno;
      throw Napi::Error::New(env, std::string("perf_buffer__new: ") + strerror(err));
    }
  } else {
    rb_ = ring_buffer__new(map_fd, OnRing, this, nullptr);
    if (rb_ == nullptr) {
      int err = errno;
      throw Napi::Error::New(env, std::string("ring_buffer__new: ") + strerror(err));
    }
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    stopfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    bool ok = epfd_ >= 0 && stopfd_ >= 0;
    ev.data.fd = ring_buffer__epoll_fd(rb_);
    ok = ok && epoll_ctl(epfd_, EPOLL_CTL_ADD, ev.data.fd, &ev) == 0;
    ev.data.fd = stopfd_;
    ok = ok && epoll_ctl(epfd_, EPOLL_CTL_ADD, stopfd_, &ev) == 0;
    if (!ok) {
      int err = errno;
      if (epfd_ >= 0) close(epfd_);
      if (stopfd_ >= 0) close(stopfd_);
      ring_buffer__free(rb_);
      throw Napi::Error::New(env, std::string("reader epoll: ") + strerror(err));
    }
  }
  cap_ = opts_.batch_bytes;
  buf_ = static_cast<char*>(malloc(cap_));
  // The queue is bounded by bytes (max_queued_bytes), not by call count.
  tsfn_ = Napi::ThreadSafeFunction::New(env, callback, "eunomia-reader", 0, 1);
  thread_ = std::thread(&Reader::Run, this);
}

Reader::~Reader() {
  Stop();
  if (rb_ != nullptr) ring_buffer__free(rb_);
  if (pb_ != nullptr) perf_buffer__free(pb_);
  if (epfd_ >= 0) close(epfd_);
  if (stopfd_ >= 0) close(stopfd_);
  if (opts_.idle_map != nullptr) munmap(opts_.idle_map, opts_.idle_len);
  free(buf_);
}

void Reader::Stop() {
  if (joined_) return;
  stop_.store(true);
  if (stopfd_ >= 0) {
    uint64_t one = 1;
    ssize_t n = write(stopfd_, &one, sizeof(one));
    (void)n;  // EAGAIN: a wake-up is already pending
  }
  if (thread_.joinable()) thread_.join();
  joined_ = true;
}

int Reader::OnRing(void* ctx, void* data, size_t size) {
  static_cast<Reader*>(ctx)->Append(data, size, 0);
  return 0;
}

void Reader::OnPerf(void* ctx, int cpu, void* data, uint32_t size) {
  static_cast<Reader*>(ctx)->Append(data, size, static_cast<uint32_t>(cpu));
}

void Reader::OnPerfLost(void* ctx, int cpu, unsigned long long cnt) {
  static_cast<Reader*>(ctx)->c_->lost_kernel.fetch_add(cnt, std::memory_order_relaxed);
}

void Reader::Append(const void* data, size_t size, uint32_t cpu) {
  size_t need = kHeader + Align8(size);
  if (len_ + need > cap_) {
    Flush();
    if (need > cap_) {  // a record larger than a batch gets a batch of its own
      cap_ = need;
      char* grown = static_cast<char*>(realloc(buf_, cap_));
      if (grown == nullptr) {
        c_->lost_queue.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      buf_ = grown;
    }
  }
  uint32_t hdr[2] = {static_cast<uint32_t>(size), cpu};
  memcpy(buf_ + len_, hdr, kHeader);
  memcpy(buf_ + len_ + kHeader, data, size);
  len_ += need;
  count_++;
  c_->records.fetch_add(1, std::memory_order_relaxed);
}

void Reader::Flush() {
  if (count_ == 0) return;
  if (c_->queued_bytes.load(std::memory_order_relaxed) + len_ > opts_.max_queued_bytes) {
    // JavaScript is behind: drop this batch and count it, rather than grow without bound.
    c_->lost_queue.fetch_add(count_, std::memory_order_relaxed);
    len_ = 0;
    count_ = 0;
    return;
  }
  char* next = static_cast<char*>(malloc(opts_.batch_bytes));
  if (next == nullptr) {
    c_->lost_queue.fetch_add(count_, std::memory_order_relaxed);
    len_ = 0;
    count_ = 0;
    return;
  }
  auto* batch = new Batch{buf_, len_, count_, c_};
  c_->queued_bytes.fetch_add(len_, std::memory_order_relaxed);
  napi_status st = tsfn_.NonBlockingCall(batch, CallJs);
  if (st != napi_ok) {
    c_->queued_bytes.fetch_sub(len_, std::memory_order_relaxed);
    c_->lost_queue.fetch_add(count_, std::memory_order_relaxed);
    free(batch->data);
    delete batch;
  } else {
    c_->batches.fetch_add(1, std::memory_order_relaxed);
  }
  buf_ = next;
  cap_ = opts_.batch_bytes;
  len_ = 0;
  count_ = 0;
}

void Reader::CallJs(Napi::Env env, Napi::Function cb, Batch* batch) {
  std::shared_ptr<Counters> c = batch->counters;
  c->queued_bytes.fetch_sub(batch->len, std::memory_order_relaxed);
  c->delivered.fetch_add(batch->count, std::memory_order_relaxed);
  if (env == nullptr || cb.IsEmpty()) {  // environment is shutting down
    free(batch->data);
    delete batch;
    return;
  }
  size_t len = batch->len;
  uint32_t count = batch->count;
  char* data = batch->data;
  delete batch;
  Napi::Buffer<char> buf = Napi::Buffer<char>::NewOrCopy(
      env, data, len, [](Napi::Env, char* p) { free(p); });
  cb.Call({buf, Napi::Number::New(env, count)});
  // The batch is lent for the call only (BpfObject.openReader): detached now, its memory is
  // freed at once rather than when a GC finds the Buffer. Under 100,000 records/s the batches
  // waiting for a GC held tens of MiB.
  // (A copy made where external memory is not allowed is detached too; a failure only leaves
  // the freeing to the GC, so its status is not an error.)
  napi_detach_arraybuffer(env, buf.ArrayBuffer());
}

// Waits for a ring's wake-up, the stop eventfd, or the timeout; <0 on error.
int Reader::WaitRing(int timeout_ms) {
  epoll_event evs[2];
  int n = epoll_wait(epfd_, evs, 2, timeout_ms);
  return n < 0 && errno != EINTR ? -errno : 0;
}

// Sets the idle flag, then drains once more: a record submitted before the programs saw the
// flag did not wake us. True when nothing came (sleep long); false when it did (flag cleared).
bool Reader::GoIdle() {
  __atomic_store_n(opts_.idle_flag, 1u, __ATOMIC_SEQ_CST);
  if (ring_buffer__consume(rb_) <= 0) return true;
  __atomic_store_n(opts_.idle_flag, 0u, __ATOMIC_SEQ_CST);
  return false;
}

void Reader::Run() {
  int timeout = opts_.poll_ms;
  int empty = 0;
  // A new reader starts idle: its first record wakes it at once. Polling first, a tracker's
  // first event waited for the first tick (up to 50 ms for the low-rate trackers' polls).
  if (rb_ != nullptr && opts_.idle_flag != nullptr) {
    if (GoIdle()) timeout = kIdleMs;
    else Flush();
  }
  while (!stop_.load(std::memory_order_relaxed)) {
    int err;
    if (rb_ != nullptr) {
      err = WaitRing(timeout);
      // Programs submit with BPF_RB_NO_WAKEUP to batch wake-ups, so epoll may not fire:
      // drain whatever is pending on every tick.
      int got = err >= 0 ? ring_buffer__consume(rb_) : 0;
      if (got < 0) err = got;
      if (got > 0) {
        empty = 0;
        timeout = opts_.poll_ms;
      } else if (opts_.idle_flag != nullptr && timeout == opts_.poll_ms && ++empty >= kIdleAfterPolls) {
        if (GoIdle()) timeout = kIdleMs;
        else empty = 0;
      }
    } else {
      err = perf_buffer__poll(pb_, opts_.poll_ms);
    }
    if (err < 0 && err != -EINTR) {
      c_->error.store(-err);
      break;
    }
    Flush();
  }
  // Deliver what is still in the buffer: stopping must not strand records produced before it.
  if (rb_ != nullptr) ring_buffer__consume(rb_);
  else perf_buffer__consume(pb_);
  Flush();
  tsfn_.Release();
}

Napi::Object Reader::Stats(Napi::Env env) const {
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](const char* k, uint64_t v) { o.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
  num("records", c_->records.load());
  num("delivered", c_->delivered.load());
  num("batches", c_->batches.load());
  num("lostKernel", c_->lost_kernel.load());
  num("lostQueue", c_->lost_queue.load());
  num("queuedBytes", c_->queued_bytes.load());
  int e = c_->error.load();
  if (e != 0) o.Set("error", Napi::String::New(env, strerror(e)));
  return o;
}

}  // namespace eunomia
