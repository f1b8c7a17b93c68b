// libbpf logs go through one print callback; we capture them around each operation so
// errors can carry the verifier log instead of printing it to stderr.
#pragma once
#include <string>

namespace eunomia {

void InstallLibbpfLogger();

// While alive, libbpf messages (info and warnings) of this thread are appended to `text()`.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  std::string text() const;

 private:
  std::string* prev_;
  std::string buf_;
};

}  // namespace eunomia
