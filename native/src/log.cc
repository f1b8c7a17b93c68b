#include "log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace eunomia {
namespace {

std::mutex g_mu;
std::string* g_capture = nullptr;
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
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_capture != nullptr) {
    // A runaway verifier log must not eat memory: keep the first 4 MiB.
    if (g_capture->size() < (4u << 20)) g_capture->append(line);
  } else if (g_debug || level == LIBBPF_WARN) {
    fputs(line.c_str(), stderr);
  }
  return 0;
}

}  // namespace

void InstallLibbpfLogger() { libbpf_set_print(Print); }

LogCapture::LogCapture() {
  std::lock_guard<std::mutex> lock(g_mu);
  prev_ = g_capture;
  g_capture = &buf_;
}

LogCapture::~LogCapture() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_capture = prev_;
}

std::string LogCapture::text() const {
  std::lock_guard<std::mutex> lock(g_mu);
  return buf_;
}

}  // namespace eunomia
