// Whether the client of an HTTP request has gone (closed or reset its connection), so that a
// request still queued, or computing without writing anything, can be cancelled (docs/server.md).
//
// cpp-httplib 0.11 (Debian's) gives a handler no way to ask: Request has no is_connection_closed,
// and DataSink::is_writable only asks select(), which calls a closed socket writable. So the probe
// finds the request's socket among this process's descriptors by its addresses (local and peer
// address and port: unique for a TCP connection), once, then peeks at it without consuming
// anything: end of stream or a socket error means the client is gone; pending bytes (a pipelined
// request) or nothing to read mean it is still there. The socket stays open until the handler
// returns (httplib closes it after the response), so its descriptor cannot be reused meanwhile.
// A socket that cannot be found (not TCP, say) is taken as connected: the request then runs as
// before, cancelled at its first failed write. A client that half-closes (shuts down its sending
// side and keeps reading) looks gone; HTTP clients do not do that.
#pragma once

#include <string>

namespace llcuda::server {

class ClientProbe {
public:
    // Finds the socket with these addresses (as httplib's Request has them: numeric host strings,
    // ports) at once, while the client is surely connected: a socket reset by its peer no longer
    // has a peer address to match. A few hundred system calls at most (one scan of /proc/self/fd).
    ClientProbe(const std::string& local_addr, int local_port, const std::string& remote_addr, int remote_port);

    // True once the client has closed or reset the connection. Thread-safe: one non-blocking peek.
    bool gone() const;

    int socket_fd() const { return fd_; }  // the socket found, or -1

private:
    int fd_ = -1;
};

}  // namespace llcuda::server
