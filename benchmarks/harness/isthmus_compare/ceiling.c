/*
 * ceiling: a do-nothing NBD server, the upper bound of what any server can reach on this machine.
 *
 * It answers reads with zeroes from a static buffer and drops writes; flush, trim, write-zeroes
 * and cache succeed at once. Fixed-newstyle handshake (NBD_OPT_GO / NBD_OPT_INFO /
 * NBD_OPT_EXPORT_NAME; every other option is refused with NBD_REP_ERR_UNSUP, so clients use simple
 * replies), any export name, one thread per connection. Replies are gathered and sent with one
 * writev per batch of requests that arrived together, so it costs as little server CPU per I/O as
 * a blocking-socket server can.
 *
 * Built by benchmarks/compare with gcc; not part of the product.
 * usage: ceiling (-U SOCKET | -p PORT [-b ADDR]) [-s SIZE] [-P PIDFILE]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_PAYLOAD (32u << 20)
#define INBUF_SIZE (256u << 10)
#define MAX_BATCH 512

#define NBDMAGIC 0x4e42444d41474943ull
#define IHAVEOPT 0x49484156454F5054ull
#define OPT_REPLY_MAGIC 0x3e889045565a9ull
#define REQUEST_MAGIC 0x25609513u
#define SIMPLE_REPLY_MAGIC 0x67446698u

#define FLAG_FIXED_NEWSTYLE 1
#define FLAG_NO_ZEROES 2

#define OPT_EXPORT_NAME 1
#define OPT_ABORT 2
#define OPT_INFO 6
#define OPT_GO 7

#define REP_ACK 1
#define REP_INFO 3
#define REP_ERR_UNSUP 0x80000001u

#define INFO_EXPORT 0
#define INFO_BLOCK_SIZE 3

#define TFLAGS (0x1 | 0x4 | 0x8 | 0x20 | 0x40 | 0x100) /* HAS_FLAGS FLUSH FUA TRIM WRITE_ZEROES MULTI_CONN */

#define CMD_READ 0
#define CMD_WRITE 1
#define CMD_DISC 2

static char zeroes[MAX_PAYLOAD];
static uint64_t export_size = 1ull << 30;

static int read_full(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void put16(unsigned char *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void put32(unsigned char *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }
static void put64(unsigned char *p, uint64_t v) { put32(p, v >> 32); put32(p + 4, v); }
static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const unsigned char *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

static int opt_reply(int fd, uint32_t opt, uint32_t type, const void *data, uint32_t len) {
    unsigned char h[20];
    put64(h, OPT_REPLY_MAGIC);
    put32(h + 8, opt);
    put32(h + 12, type);
    put32(h + 16, len);
    if (write_full(fd, h, sizeof h) < 0) return -1;
    return len ? write_full(fd, data, len) : 0;
}

/* Returns 0 when the client entered transmission, -1 when the connection is over. */
static int handshake(int fd) {
    unsigned char g[18], cflags[4];
    put64(g, NBDMAGIC);
    put64(g + 8, IHAVEOPT);
    put16(g + 16, FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
    if (write_full(fd, g, sizeof g) < 0 || read_full(fd, cflags, 4) < 0) return -1;
    int no_zeroes = get32(cflags) & FLAG_NO_ZEROES;
    for (;;) {
        unsigned char h[16];
        if (read_full(fd, h, sizeof h) < 0 || get64(h) != IHAVEOPT) return -1;
        uint32_t opt = get32(h + 8), len = get32(h + 12);
        if (len > 65536) return -1;
        unsigned char data[65536];
        if (len && read_full(fd, data, len) < 0) return -1;
        if (opt == OPT_EXPORT_NAME) {
            unsigned char r[10 + 124];
            memset(r, 0, sizeof r);
            put64(r, export_size);
            put16(r + 8, TFLAGS);
            return write_full(fd, r, no_zeroes ? 10 : sizeof r);
        } else if (opt == OPT_GO || opt == OPT_INFO) {
            unsigned char info[14];
            put16(info, INFO_EXPORT);
            put64(info + 2, export_size);
            put16(info + 10, TFLAGS);
            if (opt_reply(fd, opt, REP_INFO, info, 12) < 0) return -1;
            put16(info, INFO_BLOCK_SIZE);
            put32(info + 2, 1);
            put32(info + 6, 4096);
            put32(info + 10, MAX_PAYLOAD);
            if (opt_reply(fd, opt, REP_INFO, info, 14) < 0) return -1;
            if (opt_reply(fd, opt, REP_ACK, NULL, 0) < 0) return -1;
            if (opt == OPT_GO) return 0;
        } else if (opt == OPT_ABORT) {
            opt_reply(fd, opt, REP_ACK, NULL, 0);
            return -1;
        } else {
            if (opt_reply(fd, opt, REP_ERR_UNSUP, NULL, 0) < 0) return -1;
        }
    }
}

struct batch {
    struct iovec iov[2 * MAX_BATCH];
    unsigned char hdr[MAX_BATCH][16];
    int niov, nrep;
};

static int flush_batch(int fd, struct batch *b) {
    struct iovec *iov = b->iov;
    int n = b->niov;
    while (n > 0) {
        ssize_t w = writev(fd, iov, n > 1024 ? 1024 : n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        while (n > 0 && (size_t)w >= iov->iov_len) { w -= (ssize_t)iov->iov_len; iov++; n--; }
        if (n > 0) { iov->iov_base = (char *)iov->iov_base + w; iov->iov_len -= (size_t)w; }
    }
    b->niov = b->nrep = 0;
    return 0;
}

struct conn {
    unsigned char in[INBUF_SIZE];
    struct batch b;
};

static void transmission(int fd, struct conn *c) {
    unsigned char *in = c->in;
    struct batch *b = &c->b;
    size_t have = 0, pos = 0;
    b->niov = b->nrep = 0;
    for (;;) {
        /* Serve every complete request already buffered, then send all their replies at once. */
        while (have - pos >= 28) {
            unsigned char *r = in + pos;
            if (get32(r) != REQUEST_MAGIC) return;
            uint16_t type = get16(r + 6);
            uint64_t offset = get64(r + 16);
            uint32_t len = get32(r + 24);
            uint32_t error = 0;
            unsigned char handle[8];
            memcpy(handle, r + 8, 8); /* r may be overwritten by a large write payload below */
            pos += 28;
            if (type == CMD_DISC) { flush_batch(fd, b); return; }
            if (len > MAX_PAYLOAD || offset > export_size || len > export_size - offset) error = 22;
            if (type == CMD_WRITE) {
                if (len > MAX_PAYLOAD) return;
                size_t inbuf = have - pos < len ? have - pos : len;
                pos += inbuf;
                size_t rest = len - inbuf;
                while (rest > 0) { /* payload larger than what is buffered: read and drop it */
                    size_t chunk = rest < INBUF_SIZE ? rest : INBUF_SIZE;
                    if (read_full(fd, in, chunk) < 0) return;
                    rest -= chunk;
                    have = pos = 0;
                }
            }
            unsigned char *h = b->hdr[b->nrep++];
            put32(h, SIMPLE_REPLY_MAGIC);
            put32(h + 4, error);
            memcpy(h + 8, handle, 8);
            b->iov[b->niov].iov_base = h;
            b->iov[b->niov++].iov_len = 16;
            if (type == CMD_READ && !error && len) {
                b->iov[b->niov].iov_base = zeroes;
                b->iov[b->niov++].iov_len = len;
            }
            if (b->nrep == MAX_BATCH && flush_batch(fd, b) < 0) return;
        }
        if (b->niov && flush_batch(fd, b) < 0) return;
        if (pos > 0) { /* keep the partial request at the start of the buffer */
            memmove(in, in + pos, have - pos);
            have -= pos;
            pos = 0;
        }
        ssize_t n = read(fd, in + have, INBUF_SIZE - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        have += (size_t)n;
    }
}

static void *serve(void *arg) {
    int fd = (int)(intptr_t)arg;
    struct conn *c = malloc(sizeof *c);
    if (c && handshake(fd) == 0) transmission(fd, c);
    free(c);
    close(fd);
    return NULL;
}

static void usage(void) {
    fprintf(stderr, "usage: ceiling (-U SOCKET | -p PORT [-b ADDR]) [-s SIZE] [-P PIDFILE]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *unix_path = NULL, *pidfile = NULL, *bind_addr = "127.0.0.1";
    int port = -1, c;
    while ((c = getopt(argc, argv, "U:p:b:s:P:")) != -1) {
        switch (c) {
        case 'U': unix_path = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'b': bind_addr = optarg; break;
        case 's': export_size = strtoull(optarg, NULL, 0); break;
        case 'P': pidfile = optarg; break;
        default: usage();
        }
    }
    if ((unix_path == NULL) == (port < 0)) usage();
    signal(SIGPIPE, SIG_IGN);
    int lfd;
    if (unix_path) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if (strlen(unix_path) >= sizeof a.sun_path) { fprintf(stderr, "ceiling: socket path too long\n"); return 1; }
        strcpy(a.sun_path, unix_path);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        unlink(unix_path);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0) { perror("ceiling: bind"); return 1; }
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        if (inet_pton(AF_INET, bind_addr, &a.sin_addr) != 1) { fprintf(stderr, "ceiling: bad address\n"); return 1; }
        lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0) { perror("ceiling: bind"); return 1; }
    }
    if (listen(lfd, 64) < 0) { perror("ceiling: listen"); return 1; }
    if (pidfile) {
        FILE *f = fopen(pidfile, "w");
        if (!f) { perror("ceiling: pidfile"); return 1; }
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    fprintf(stderr, "ceiling: listening, export size %llu\n", (unsigned long long)export_size);
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) { if (errno == EINTR || errno == ECONNABORTED) continue; perror("ceiling: accept"); return 1; }
        int one = 1;
        if (!unix_path) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, serve, (void *)(intptr_t)fd) != 0) close(fd);
        pthread_attr_destroy(&attr);
    }
}
