// A ring-buffer or perf-buffer consumer on its own thread. Records are copied into batches
// and handed to JavaScript through one thread-safe call per batch, never one per record.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

struct ring_buffer;
struct perf_buffer;

namespace eunomia {

struct ReaderOptions {
  bool perf = false;
  int poll_ms = 10;
  size_t perf_pages = 64;
  size_t batch_bytes = 256 * 1024;
  size_t max_queued_bytes = 64u << 20;
  // Ring buffers: a u32 in the object's mmapped .bss that the reader sets while it sleeps
  // long (no data for a while); the programs then force a wake-up and clear it. nullptr: never idle.
  volatile uint32_t* idle_flag = nullptr;
  void* idle_map = nullptr;  // the mapping idle_flag points into; the reader unmaps it
  size_t idle_len = 0;
};

class Reader {
 public:
  // Throws Napi::Error if the buffer cannot be set up.
  Reader(Napi::Env env, int map_fd, Napi::Function callback, const ReaderOptions& opts);
  ~Reader();
  void Stop();  // joins the thread; idempotent
  Napi::Object Stats(Napi::Env env) const;

 private:
  // Shared with batches still queued for JavaScript, which may outlive the reader.
  struct Counters {
    std::atomic<uint64_t> records{0};      // read from the kernel
    std::atomic<uint64_t> delivered{0};    // handed to JavaScript
    std::atomic<uint64_t> batches{0};
    std::atomic<uint64_t> lost_kernel{0};  // perf buffer overflow, reported by the kernel
    std::atomic<uint64_t> lost_queue{0};   // dropped here because JavaScript fell behind
    std::atomic<uint64_t> queued_bytes{0};
    std::atomic<int> error{0};
  };
  struct Batch {
    char* data;
    size_t len;
    uint32_t count;
    std::shared_ptr<Counters> counters;
  };
  static int OnRing(void* ctx, void* data, size_t size);
  static void OnPerf(void* ctx, int cpu, void* data, uint32_t size);
  static void OnPerfLost(void* ctx, int cpu, unsigned long long cnt);
  static void CallJs(Napi::Env env, Napi::Function cb, Batch* batch);
  void Append(const void* data, size_t size, uint32_t cpu);
  void Flush();
  void Run();
  bool GoIdle();
  int WaitRing(int timeout_ms);

  ReaderOptions opts_;
  // Ring buffers: our own epoll over libbpf's epoll fd and a stop eventfd, so Stop() wakes a
  // reader that sleeps long when idle.
  int epfd_ = -1;
  int stopfd_ = -1;
  ring_buffer* rb_ = nullptr;
  perf_buffer* pb_ = nullptr;
  Napi::ThreadSafeFunction tsfn_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  bool joined_ = false;

  // Batch under construction: touched only by the reader thread.
  char* buf_ = nullptr;
  size_t len_ = 0;
  size_t cap_ = 0;
  uint32_t count_ = 0;

  std::shared_ptr<Counters> c_ = std::make_shared<Counters>();
};

}  // namespace eunomia
