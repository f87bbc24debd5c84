#include "client_probe.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <system_error>

namespace llcuda::server {

namespace {

// The numeric host and port of an address, formatted as httplib formats Request::remote_addr.
bool host_and_port(const sockaddr_storage& a, socklen_t len, std::string& host, int& port) {
    if (a.ss_family == AF_INET) {
        port = ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
    } else if (a.ss_family == AF_INET6) {
        port = ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
    } else {
        return false;
    }
    char buf[NI_MAXHOST] = {};
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, buf, sizeof(buf), nullptr, 0, NI_NUMERICHOST) != 0) {
        return false;
    }
    host = buf;
    return true;
}

using NameFn = int (*)(int, sockaddr*, socklen_t*);

bool address_is(int fd, NameFn fn, const std::string& want_host, int want_port) {
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    if (fn(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return false;
    std::string host;
    int port = -1;
    return host_and_port(a, len, host, port) && port == want_port && host == want_host;
}

}  // namespace

// The peer must still be connected: after a reset getpeername fails, so the lookup is done at once.
ClientProbe::ClientProbe(const std::string& local_addr, int local_port, const std::string& remote_addr,
                         int remote_port) {
    if (local_port < 0 || remote_port < 0) return;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        int fd = -1;
        if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc{}) continue;
        if (address_is(fd, getsockname, local_addr, local_port) &&
            address_is(fd, getpeername, remote_addr, remote_port)) {
            fd_ = fd;
            return;
        }
    }
}

bool ClientProbe::gone() const {
    if (fd_ < 0) return false;
    char c;
    const ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return false;  // bytes waiting: a pipelined request, the client is there
    if (n == 0) return true;  // the client closed its end (or reset it: after the reset is reported once)
    const int err = errno;
    // A reset or a dead connection; anything else (EAGAIN: nothing to read) says the peer is there.
    return err == ECONNRESET || err == EPIPE || err == ENOTCONN || err == ETIMEDOUT;
}

}  // namespace llcuda::server
