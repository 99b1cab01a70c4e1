/*
 * hawser-cni-shim: the exec'd CNI plugin when a hawser CNI daemon runs in this network namespace.
 * Installed under each plugin's name (bridge, host-local, loopback, portmap); a static binary built
 * by build.mjs (compile.ts has the flags). It only creates a FIFO named <pid>.<plugin> in the
 * daemon's spool dir; the daemon reads this process's environment and stdin through /proc (fds 7-9
 * below), writes the result to our stdout, and sends the exit code through the FIFO.
 * With no daemon (or if it declines), it execs the one-shot Node.js plugin <realpath>.cjs instead.
 *
 * Why C and not the shell script it replaces (shim.sh: sh, then a forked mkfifo): each plugin call
 * was two execs and a fork, six calls per pod (loopback, bridge, portmap; ADD and DEL); a system-wide
 * perf record of a paced bench-pods run (issue #26) gave mkfifo 3.7%, sh 1.5% and the shims 3.2%.
 * Here a call is one exec of a static binary, with mkfifo(2) as a system call.
 * Same protocol, same answers, same fallbacks as shim.sh; see cni-plugins/README.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* found by the daemon's in-process delegation check (cni-plugins/pkg/inprocess.ts) */
__attribute__((used)) const char marker[] = "hawser-cni-shim";

static const char EOF_REPLY[] = "{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"hawser CNI daemon stopped while handling the request\"}";

/* The daemon's answer: 0 or 1 (exit code), 'F' (run it yourself), or -1 (EOF: the daemon died). */
static int ask(const char *fifo) {
  int fd = open(fifo, O_RDONLY);
  if (fd < 0) return 'F';
  char buf[16];
  size_t n = 0;
  while (n < sizeof buf - 1) {
    ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (memchr(buf, '\n', n)) break;
  }
  close(fd);
  if (n >= 2 && buf[1] == '\n' && (buf[0] == '0' || buf[0] == '1' || buf[0] == 'F')) return buf[0] == 'F' ? 'F' : buf[0] - '0';
  return -1;
}

/* The daemon serving our network namespace, through its spool dir; returns its answer, or 'F'. */
static int viaDaemon(const char *name) {
  const char *runDir = getenv("HAWSER_CNI_RUN_DIR");
  if (!runDir || !*runDir) runDir = "/run/hawser/cni";
  struct stat self;
  if (stat("/proc/self/ns/net", &self) != 0) return 'F';
  DIR *dir = opendir(runDir);
  if (!dir) return 'F';
  struct dirent *e;
  char path[PATH_MAX];
  int answer = 'F';
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    struct stat ns;
    if (snprintf(path, sizeof path, "%s/%s/netns", runDir, e->d_name) >= (int)sizeof path) continue;
    if (stat(path, &ns) != 0 || ns.st_dev != self.st_dev || ns.st_ino != self.st_ino) continue;
    /* the daemon reads our stdin, stdout and stderr as fds 7, 8, 9 */
    if (dup2(0, 7) < 0 || dup2(1, 8) < 0 || dup2(2, 9) < 0) break;
    if (snprintf(path, sizeof path, "%s/%s/q/%ld.%s", runDir, e->d_name, (long)getpid(), name) >= (int)sizeof path) break;
    if (mkfifo(path, 0600) != 0) break;
    answer = ask(path);
    break;
  }
  closedir(dir);
  return answer;
}

int main(int argc, char **argv) {
  (void)argc;
  const char *name = strrchr(argv[0], '/');
  name = name ? name + 1 : argv[0];
  int answer = viaDaemon(name);
  if (answer == 0 || answer == 1) return answer;
  if (answer == -1) {
    fputs(EOF_REPLY, stdout);
    return 1;
  }
  close(7);
  close(8);
  close(9);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 5);
  if (n <= 0) return 1;
  memcpy(self + n, ".cjs", 5);
  char *args[] = {"node", self, NULL};
  execvp("node", args);
  perror("hawser-cni-shim: node");
  return 1;
}
