#include "log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace eunomia {
namespace {

std::mutex g_mu;  // stderr and the debug flag are shared by every thread
// Per thread: objects load on libuv's worker threads in parallel (BpfObject.loadAsync), and
// libbpf calls the print callback on the thread doing the work.
thread_local std::string* g_capture = nullptr;
bool g_debug = std::getenv("EUNOMIA_LIBBPF_DEBUG") != nullptr;

int Print(enum libbpf_print_level level, const char* fmt, va_list ap) {
  if (level == LIBBPF_DEBUG && !g_debug) return 0;
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return 0;
  std::string line(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(line.data(), line.size(), fmt, ap);
  line.resize(static_cast<size_t>(n));
  if (g_capture != nullptr) {
    // A runaway verifier log must not eat memory: keep the first 4 MiB.
    if (g_capture->size() < (4u << 20)) g_capture->append(line);
  } else if (g_debug || level == LIBBPF_WARN) {
    std::lock_guard<std::mutex> lock(g_mu);
    fputs(line.c_str(), stderr);
  }
  return 0;
}

}  // namespace

void InstallLibbpfLogger() { libbpf_set_print(Print); }

LogCapture::LogCapture() {
  prev_ = g_capture;
  g_capture = &buf_;
}

LogCapture::~LogCapture() { g_capture = prev_; }

std::string LogCapture::text() const { return buf_; }

}  // namespace eunomia
