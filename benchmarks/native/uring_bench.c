/*
 * The C baseline of IoThreadBench: the same operations (NOP, 4 KiB read of a file in the page cache) at the
 * same batch sizes, over liburing, on one thread, with the same ring the IoThread sets up (64 SQ entries,
 * 1024 CQ entries, single issuer, deferred task running, submit-all; falling back as it does). Per batch:
 * prepare `batch` SQEs, one io_uring_submit_and_wait, reap every ready CQE and advance the CQ head once per
 * pass (as the IoThread does).
 *
 * Usage: uring_bench nop|read BATCH ROUNDS OPS_PER_ROUND FILE
 * Output, one line per round (the benchmark script reads these) and a summary:
 *   round <i> <op> <batch> <wall ns/op> <thread CPU ns/op>
 *   result <op> <batch> <mean ns/op> <min ns/op> <max ns/op>
 * Build: gcc -O2 -Wall -o uring_bench uring_bench.c -luring
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FILE_PAGES 256

static double clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int setup(struct io_uring *ring) {
    unsigned flags[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
        IORING_SETUP_CQSIZE,
    };
    for (unsigned i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        p.flags = flags[i];
        p.cq_entries = 1024;
        int r = io_uring_queue_init_params(64, ring, &p);
        if (r != -EINVAL) {
            return r;
        }
    }
    return -EINVAL;
}

static long run(struct io_uring *ring, int read_op, int batch, long ops, int fd, char *bufs) {
    long done = 0, failures = 0;
    off_t off = 0;
    while (done < ops) {
        for (int i = 0; i < batch; i++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
            if (read_op) {
                io_uring_prep_read(sqe, fd, bufs + 4096L * i, 4096, off);
                off = (off + 4096) % (FILE_PAGES * 4096L);
            } else {
                io_uring_prep_nop(sqe);
            }
            io_uring_sqe_set_data64(sqe, (unsigned long long)i);
        }
        int outstanding = batch;
        int r = io_uring_submit_and_wait(ring, 1);
        if (r < 0 && r != -EINTR) {
            fprintf(stderr, "submit: %s\n", strerror(-r));
            exit(1);
        }
        while (outstanding > 0) {
            struct io_uring_cqe *cqe;
            unsigned head, seen = 0;
            io_uring_for_each_cqe(ring, head, cqe) {
                if (read_op ? cqe->res != 4096 : cqe->res != 0) {
                    failures++;
                }
                seen++;
            }
            io_uring_cq_advance(ring, seen);
            outstanding -= seen;
            if (outstanding > 0) {
                io_uring_submit_and_wait(ring, 1);
            }
        }
        done += batch;
    }
    return failures;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s nop|read BATCH ROUNDS OPS_PER_ROUND FILE\n", argv[0]);
        return 2;
    }
    int read_op = strcmp(argv[1], "read") == 0;
    int batch = atoi(argv[2]), rounds = atoi(argv[3]);
    long ops = atol(argv[4]);
    int fd = open(argv[5], O_RDONLY | O_CLOEXEC);
    if (fd < 0 || batch < 1 || batch > 64 || rounds < 1 || ops < batch) {
        fprintf(stderr, "bad arguments or cannot open %s\n", argv[5]);
        return 2;
    }
    struct io_uring ring;
    int r = setup(&ring);
    if (r < 0) {
        fprintf(stderr, "io_uring_queue_init_params: %s\n", strerror(-r));
        return 1;
    }
    char *bufs = aligned_alloc(4096, 4096L * batch);
    run(&ring, read_op, batch, ops, fd, bufs); /* warm-up round */
    double sum = 0, min = 1e18, max = 0;
    for (int i = 0; i < rounds; i++) {
        double t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        long failures = run(&ring, read_op, batch, ops, fd, bufs);
        double ns = (clock_ns(CLOCK_MONOTONIC) - t0) / ops;
        double cpu = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / ops;
        if (failures) {
            fprintf(stderr, "%ld operations failed\n", failures);
            return 1;
        }
        printf("round %d %s %d %.1f %.1f\n", i, argv[1], batch, ns, cpu);
        sum += ns;
        if (ns < min) min = ns;
        if (ns > max) max = ns;
    }
    printf("result %s %d %.1f %.1f %.1f\n", argv[1], batch, sum / rounds, min, max);
    io_uring_queue_exit(&ring);
    free(bufs);
    close(fd);
    return 0;
}
