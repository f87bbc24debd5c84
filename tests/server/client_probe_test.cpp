// ClientProbe (tools/llcuda/server/client_probe.h) on real loopback TCP connections: it finds the
// server side's socket by its addresses, reports a connected client as there (also with unread
// bytes waiting, which it leaves unread), and one that closed or reset its connection as gone.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "client_probe.h"

namespace llcuda::server {
namespace {

int port_of(int fd, bool peer) {
    sockaddr_in a{};
    socklen_t len = sizeof(a);
    if ((peer ? getpeername : getsockname)(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return -1;
    return ntohs(a.sin_port);
}

// A listening socket, a client connected to it and the accepted server side.
struct Connection {
    int listener = -1, client = -1, server = -1;
    Connection() {
        listener = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
        EXPECT_EQ(listen(listener, 4), 0);
        a.sin_port = htons(uint16_t(port_of(listener, false)));
        client = socket(AF_INET, SOCK_STREAM, 0);
        EXPECT_EQ(connect(client, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
        server = accept(listener, nullptr, nullptr);
        EXPECT_GE(server, 0);
    }
    ~Connection() {
        for (int fd : {listener, client, server}) {
            if (fd >= 0) close(fd);
        }
    }
    // As httplib fills Request for the server side.
    ClientProbe probe() const {
        return ClientProbe("127.0.0.1", port_of(server, false), "127.0.0.1", port_of(server, true));
    }
};

// Polls for up to 2 s: the kernel delivers a close or reset on loopback at once, but not synchronously.
bool becomes_gone(ClientProbe& p) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!p.gone()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

TEST(ClientProbe, FindsTheSocketAndSeesAnOrderlyClose) {
    Connection c;
    ClientProbe p = c.probe();
    EXPECT_EQ(p.socket_fd(), c.server);
    EXPECT_FALSE(p.gone());
    // A pipelined request waiting unread: the client is there, and the bytes stay for the server.
    ASSERT_EQ(send(c.client, "GET /", 5, 0), 5);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(p.gone());
    char buf[8] = {};
    EXPECT_EQ(recv(c.server, buf, sizeof(buf), 0), 5);
    EXPECT_EQ(std::string(buf, 5), "GET /");
    close(c.client);
    c.client = -1;
    EXPECT_TRUE(becomes_gone(p));
}

TEST(ClientProbe, SeesAReset) {
    Connection c;
    ClientProbe p = c.probe();
    EXPECT_FALSE(p.gone());
    linger l{1, 0};  // close with RST
    ASSERT_EQ(setsockopt(c.client, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
    close(c.client);
    c.client = -1;
    EXPECT_TRUE(becomes_gone(p));
}

TEST(ClientProbe, AnUnknownConnectionIsTakenAsConnected) {
    Connection c;
    // The peer's port is wrong: no such socket, so nothing can be said and nothing is cancelled.
    ClientProbe p("127.0.0.1", port_of(c.server, false), "127.0.0.1", port_of(c.server, true) ^ 1);
    EXPECT_EQ(p.socket_fd(), -1);
    close(c.client);
    c.client = -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(p.gone());
    // No addresses (a Request not from a TCP socket): the same.
    ClientProbe none("", -1, "", -1);
    EXPECT_EQ(none.socket_fd(), -1);
    EXPECT_FALSE(none.gone());
}

}  // namespace
}  // namespace llcuda::server
