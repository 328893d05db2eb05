// The physical-limit reference: forkpty(3) and read(2) with a 64 KiB buffer, nothing else.
// usage: forkpty MIB RUNS CONC PROGRAM [ARG...]
// Touches MIB MiB, then RUNS times starts CONC copies of PROGRAM at once and reads each master
// until EIO (every slave fd closed), then waitpid. Prints one JSON line per child and per run.
// With FORKPTY_OUT_DIR set, every read is also written to a file there, as `spawn()` copies
// to its stdout: the reference for a copy to a file rather than a read that discards.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static double cpu(void) {
  struct rusage r; getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

int main(int argc, char **argv) {
  if (argc < 5) return 2;
  size_t mib = strtoul(argv[1], 0, 10); int runs = atoi(argv[2]), conc = atoi(argv[3]);
  if (mib) memset(malloc(mib << 20), 1, mib << 20);
  static char buf[65536];
  char path[4096] = "";
  int out = -1;
  const char *out_dir = getenv("FORKPTY_OUT_DIR");
  if (out_dir) {
    snprintf(path, sizeof path, "%s/napi-pty-c-%d.out", out_dir, (int)getpid());
    if ((out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) { perror("open"); return 1; }
  }
  struct pollfd *fds = calloc(conc, sizeof *fds); pid_t *pids = calloc(conc, sizeof *pids);
  long long *bytes = calloc(conc, sizeof *bytes); double *first = calloc(conc, sizeof *first);
  for (int r = 0; r < runs; r++) {
    double t0 = now(), c0 = cpu();
    for (int i = 0; i < conc; i++) {
      if ((pids[i] = forkpty(&fds[i].fd, 0, 0, 0)) == 0) { execvp(argv[4], argv + 4); _exit(127); }
      if (pids[i] < 0) { perror("forkpty"); return 1; }
      fds[i].events = POLLIN; bytes[i] = 0; first[i] = 0;
    }
    double t1 = now(), c1 = cpu();
    for (int open = conc; open > 0;) {
      if (conc > 1 && poll(fds, conc, -1) < 0) continue; // one child: plain blocking reads
      for (int i = 0; i < conc; i++) {
        if (fds[i].fd < 0 || (conc > 1 && !fds[i].revents)) continue;
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          if (!bytes[i]) first[i] = now() - t0;
          bytes[i] += n;
          for (ssize_t done = 0; out >= 0 && done < n;) {
            ssize_t w = write(out, buf + done, n - done);
            if (w < 0 && errno != EINTR) { perror("write"); return 1; }
            if (w > 0) done += w;
          }
          continue;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        int status; close(fds[i].fd); fds[i].fd = -1; open--; waitpid(pids[i], &status, 0);
        printf("{\"child\":%d,\"run\":%d,\"first\":%.4f,\"exit\":%.4f,\"bytes\":%lld,\"status\":%d}\n",
               i, r, first[i], now() - t0, bytes[i], status);
      }
    }
    struct rusage u; getrusage(RUSAGE_SELF, &u);
    printf("{\"run\":%d,\"spawned\":%.4f,\"wall\":%.4f,\"cpuSpawn\":%.4f,\"cpuWindow\":%.4f,\"maxRssKiB\":%ld}\n",
           r, t1 - t0, now() - t0, c1 - c0, cpu() - c1, u.ru_maxrss);
  }
  if (out >= 0) { close(out); unlink(path); }
  return 0;
}
