/* The floor for any relay in user space: a minimal single-threaded epoll TCP relay in C, no toxics, no
 * control API, no error handling beyond closing both sides. bench/proxy_overhead.py compiles it (with `cc`,
 * when there is one) and measures it beside the fault proxy, so the proxy's ratios to a direct connection
 * can be read against what any extra process in the path costs on the same machine and load.
 *
 *     cc -O2 -o relay_floor relay_floor.c && ./relay_floor UPSTREAM_PORT    # prints its own port, 127.0.0.1
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536
static int peer[MAXFD];
static char buf[256 * 1024];

static void tune(int fd) {
    int one = 1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    struct sockaddr_in up = loopback(atoi(argv[1])), me = loopback(0);
    socklen_t len = sizeof me;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(ls, (void *)&me, sizeof me) || listen(ls, 1024) || getsockname(ls, (void *)&me, &len)) return 3;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    printf("%d\n", ntohs(me.sin_port));
    fflush(stdout);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c = accept(ls, 0, 0), u = socket(AF_INET, SOCK_STREAM, 0);
                if (c < 0 || c >= MAXFD || u >= MAXFD || connect(u, (void *)&up, sizeof up)) {
                    close(c);
                    close(u);
                    continue;
                }
                tune(c);
                tune(u);
                peer[c] = u;
                peer[u] = c;
                struct epoll_event ec = {.events = EPOLLIN, .data.fd = c}, eu = {.events = EPOLLIN, .data.fd = u};
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &ec);
                epoll_ctl(ep, EPOLL_CTL_ADD, u, &eu);
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && errno == EAGAIN) continue;
            if (r <= 0) {
                close(peer[fd]);
                close(fd);
                continue;
            }
            for (ssize_t off = 0; off < r;) {  /* blocking-style write: the floor, not a fair scheduler */
                ssize_t w = write(peer[fd], buf + off, r - off);
                if (w < 0 && errno != EAGAIN) break;
                if (w < 0) usleep(20);
                else off += w;
            }
        }
    }
}
