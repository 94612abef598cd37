// A tiny HTTP/1.1 server for download tests: plain sockets on 127.0.0.1 (an ephemeral port),
// one thread, one request per connection, fixed answers.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "engine/base/unique_fd.h"

namespace kiln::testing {

class HttpTestServer {
 public:
  HttpTestServer() : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (!listener_.valid() ||
        ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_.get(), 16) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HttpTestServer() {
    ::shutdown(listener_.get(), SHUT_RDWR);  // wakes accept()
    thread_.join();
  }
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  /// Answers GET `path` ("/a/b") with 200 and `body`, and a Last-Modified header when given.
  void Add(const std::string& path, const std::string& body,
           std::optional<std::time_t> last_modified = std::nullopt) {
    std::lock_guard lock(mutex_);
    files_[path] = {body, last_modified};
  }

  /// http://127.0.0.1:<port><path>
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  struct File {
    std::string body;
    std::optional<std::time_t> last_modified;
  };

  void Serve() {
    while (true) {
      UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!connection.valid()) return;  // shut down
      Answer(connection.get());
    }
  }

  void Answer(int fd) {
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) return;
      request.append(buffer, static_cast<size_t>(n));
    }
    // "GET /path HTTP/1.1"
    const size_t start = request.find(' ') + 1;
    const std::string path = request.substr(start, request.find(' ', start) - start);
    std::string response;
    std::lock_guard lock(mutex_);
    const auto file = files_.find(path);
    if (file == files_.end()) {
      response =
          "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found";
    } else {
      response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(file->second.body.size()) +
                 "\r\nConnection: close\r\n";
      if (file->second.last_modified) {
        char date[64];
        std::tm tm{};
        ::gmtime_r(&*file->second.last_modified, &tm);
        std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        response += std::string("Last-Modified: ") + date + "\r\n";
      }
      response += "\r\n" + file->second.body;
    }
    for (size_t sent = 0; sent < response.size();) {
      const ssize_t n = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  UniqueFd listener_;
  int port_ = 0;
  std::mutex mutex_;
  std::map<std::string, File> files_;
  std::thread thread_;
};

}  // namespace kiln::testing
