/* mocker-monitor: the supervisor of one detached container, conmon's role.
 *
 * `mocker run -d` and `mocker start` exec it after a setsid. It starts
 * mocker-init in new namespaces, stays its parent, copies the workload's
 * output into the container log and to attached clients, feeds their
 * input to the workload, records the exit in the state file and, with
 * --rm, hands over to `mocker rm`. It is static, links no JSON, TLS or
 * archive code, and allocates nothing after start, so it costs little
 * memory per container.
 *
 *   mocker-monitor DIR ROOT MOCKER ID FLAGS LOG_MAX
 *
 * FLAGS holds 't' (tty), 'i' (stdin open), 'r' (remove on exit), 'a' (an
 * attach client is on fd 6), 'n' (bridge networking: mocker wires the new
 * network namespace up before init gets its config, and `mocker network
 * release` takes it down after the exit), 'h' (the host's network). Inherited
 * fds: 3 the socket to mocker (layers and init config in; STARTED or ERROR
 * out), 4 the run lock, 5 the sealed mocker-init. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "logfile.h"
#include "mk_attach.h"
#include "mk_exit.h"
#include "mk_proto.h"
#include "mk_state.h"
#include "isolation/cgroup.h"
#include "mk_util.h"
#include "engine/overlay.h"
#include "engine/spawn.h"

#define CTL_FD 3
#define LOCK_FD 4
#define INIT_FD 5
#define ATTACH_FD 6
#define MAX_CLIENTS 16
#define MAX_HELD 64

enum {
  EV_INIT_SOCK = 1,
  EV_PIDFD,
  EV_SIGNAL,
  EV_OUT,
  EV_ERR,
  EV_MASTER,
  EV_LISTEN,
  EV_CLIENT = 100
};

struct client {
  int fd;
  unsigned flags;
};

struct monitor {
  const char *dir, *root, *mocker, *id;
  int tty, stdin_open, autoremove, bridge, host_net;
  int netns_fd; /* --network container:X */
  int held[MAX_HELD];
  size_t nheld;
  struct mk_spawned child;
  int ctl, epfd, sigfd, listen_fd;
  int out_r, err_r, in_w, master;
  int init_exited, init_status, started;
  struct client clients[MAX_CLIENTS];
  struct mk_logfile log;
  struct mk_state st;
  char lower[MK_MSG_MAX];
  struct mk_cgroup cgroup;
  struct mk_userns userns; /* empty: none of its own */
  char upper[PATH_MAX], work[PATH_MAX], rootfs[PATH_MAX];
};

static uint8_t config_buf[MK_MSG_MAX];
static char io_buf[MK_ATTACH_DATA_MAX + 1];

static int watch(struct monitor *m, int fd, uint64_t tag)
{
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

  return epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void unwatch_close(struct monitor *m, int *fd)
{
  if (*fd < 0)
    return;
  epoll_ctl(m->epfd, EPOLL_CTL_DEL, *fd, NULL);
  mk_close(*fd);
  *fd = -1;
}

/* ---- talking to mocker (the CLI that started us) ---- */

static void reply_error(struct monitor *m, const mk_error_t *e)
{
  if (m->ctl >= 0)
    mk_msg_send_error(m->ctl, MK_FAIL_SETUP, e);
}

static int receive_launch(struct monitor *m, size_t *config_len,
                          mk_error_t *err)
{
  uint32_t type;
  int fd;
  int n = mk_msg_recv(m->ctl, &type, m->lower, sizeof(m->lower) - 1, &fd, err);

  if (n < 0 || type != MK_MSG_LAYERS)
    return n < 0 ? -1 : mk_error_set(err, EPROTO, "expected layers");
  mk_close(fd);
  m->lower[n] = '\0';
  n = mk_msg_recv(m->ctl, &type, &m->cgroup, sizeof(m->cgroup), &fd, err);
  if (n < 0 || type != MK_MSG_CGROUP || (size_t)n != sizeof(m->cgroup))
    return n < 0 ? -1 : mk_error_set(err, EPROTO, "expected the cgroup");
  mk_close(fd);
  n = mk_msg_recv(m->ctl, &type, config_buf, sizeof(config_buf), &fd, err);
  if (n >= 0 && type == MK_MSG_USERNS) {
    if ((size_t)n != sizeof(m->userns))
      return mk_error_set(err, EPROTO, "bad user namespace message");
    memcpy(&m->userns, config_buf, sizeof(m->userns));
    if (m->userns.nuid > MK_MAX_IDMAPS || m->userns.ngid > MK_MAX_IDMAPS)
      return mk_error_set(err, EPROTO, "bad user namespace message");
    mk_close(fd);
    n = mk_msg_recv(m->ctl, &type, config_buf, sizeof(config_buf), &fd, err);
  }
  if (n >= 0 && type == MK_MSG_NETNS && fd >= 0) {
    m->netns_fd = fd;
    n = mk_msg_recv(m->ctl, &type, config_buf, sizeof(config_buf), &fd, err);
  }
  if (n < 0 || type != MK_MSG_CONFIG)
    return n < 0 ? -1 : mk_error_set(err, EPROTO, "expected config");
  mk_close(fd);
  *config_len = (size_t)n;
  return 0;
}

/* ---- the workload's stdio ---- */

static int open_null(void)
{
  return open("/dev/null", O_RDWR | O_CLOEXEC);
}

/* Before clone3: fds 0-2 become what the workload inherits (pipes, or
 * /dev/null with a tty, whose pty init makes). Afterwards we keep only
 * our ends, so the pipes hit EOF when the container's last writer goes. */
static int setup_stdio(struct monitor *m, int child_fds[3], mk_error_t *err)
{
  int out[2] = {-1, -1}, errp[2] = {-1, -1}, in[2] = {-1, -1};

  child_fds[0] = child_fds[1] = child_fds[2] = -1;
  if (m->tty) {
    for (int i = 0; i < 3; i++)
      child_fds[i] = open_null();
    return 0;
  }
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
      (m->stdin_open && pipe2(in, O_CLOEXEC) < 0))
    return mk_error_sys(err, errno, "pipe");
  m->out_r = out[0];
  m->err_r = errp[0];
  m->in_w = in[1];
  child_fds[0] = m->stdin_open ? in[0] : open_null();
  child_fds[1] = out[1];
  child_fds[2] = errp[1];
  return 0;
}

static int install_child_stdio(int child_fds[3], mk_error_t *err)
{
  for (int i = 0; i < 3; i++)
    if (child_fds[i] < 0 || dup2(child_fds[i], i) < 0)
      return mk_error_sys(err, errno, "set up the workload's stdio");
  return 0;
}

static void drop_child_stdio(int child_fds[3])
{
  int null = open_null();

  for (int i = 0; i < 3; i++) {
    mk_close(child_fds[i]);
    if (null >= 0)
      dup2(null, i);
  }
  mk_close(null);
}

/* ---- clients ---- */

static void drop_client(struct monitor *m, struct client *c)
{
  unwatch_close(m, &c->fd);
  c->flags = 0;
}

static void add_client(struct monitor *m, int fd)
{
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (m->clients[i].fd >= 0)
      continue;
    m->clients[i].fd = fd;
    m->clients[i].flags = 0;
    if (watch(m, fd, EV_CLIENT + (uint64_t)i) < 0)
      drop_client(m, &m->clients[i]);
    return;
  }
  mk_close(fd);
}

static void send_packet(struct client *c, uint8_t type, const void *data,
                        size_t len)
{
  if (mk_attach_send(c->fd, type, data, len) < 0 && errno != EAGAIN) {
    mk_close(c->fd); /* epoll drops a closed fd by itself */
    c->fd = -1;
  }
}

static void broadcast(struct monitor *m, uint8_t type, const void *data,
                      size_t len)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (m->clients[i].fd >= 0)
      send_packet(&m->clients[i], type, data, len);
}

static void close_stdin(struct monitor *m)
{
  unwatch_close(m, &m->in_w);
}

static void on_client(struct monitor *m, struct client *c)
{
  char pkt[1 + MK_ATTACH_DATA_MAX];
  ssize_t n = recv(c->fd, pkt, sizeof(pkt), 0);
  int in = m->tty ? m->master : m->in_w;

  if (n <= 0) {
    drop_client(m, c);
    return;
  }
  switch ((uint8_t)pkt[0]) {
  case MK_ATTACH_HELLO:
    if (n >= 2)
      c->flags = (uint8_t)pkt[1];
    break;
  case MK_ATTACH_STDIN:
    if ((c->flags & MK_ATTACH_WANTS_STDIN) && in >= 0)
      mk_write_all(in, pkt + 1, (size_t)n - 1);
    break;
  case MK_ATTACH_STDIN_EOF:
    if ((c->flags & MK_ATTACH_WANTS_STDIN) && !m->tty)
      close_stdin(m);
    break;
  case MK_ATTACH_RESIZE: {
    struct mk_attach_resize r;
    if ((size_t)n - 1 >= sizeof(r) && m->master >= 0) {
      memcpy(&r, pkt + 1, sizeof(r));
      struct winsize ws = {.ws_row = r.rows, .ws_col = r.cols};
      ioctl(m->master, TIOCSWINSZ, &ws);
    }
    break;
  }
  case MK_ATTACH_SIGNAL: {
    int32_t sig;
    if ((size_t)n - 1 >= sizeof(sig) && !m->init_exited) {
      memcpy(&sig, pkt + 1, sizeof(sig));
      syscall(SYS_pidfd_send_signal, m->child.pidfd, sig, NULL, 0);
    }
    break;
  }
  }
}

static int listen_attach(struct monitor *m)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  _cleanup_close_ int dir = open(m->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd;

  /* sun_path holds 108 bytes; a deep state root would not fit, so the
   * socket is named through our fd of its directory. */
  if (dir < 0)
    return -1; /* attach unavailable; logs still work */
  snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/attach.sock",
           dir);
  unlink(addr.sun_path);
  fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
      listen(fd, 8) < 0) {
    mk_close(fd);
    return -1;
  }
  return fd;
}

static void on_listen(struct monitor *m)
{
  int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);

  if (fd >= 0)
    add_client(m, fd);
}

/* ---- output ---- */

/* Copies one read of fd to the log and the clients; 0 at EOF. */
enum pump { PUMP_EOF, PUMP_DATA, PUMP_LATER };

/* Copies one read of fd to the log and the clients. */
static enum pump pump_output(struct monitor *m, int fd, const char *stream,
                             uint8_t type)
{
  ssize_t n = read(fd, io_buf, MK_ATTACH_DATA_MAX);

  if (n < 0 && errno == EINTR)
    return PUMP_DATA; /* nothing lost: read again */
  if (n < 0 && errno == EAGAIN)
    return PUMP_LATER;
  if (n <= 0)
    return PUMP_EOF;
  mk_logfile_write(&m->log, stream, io_buf, (size_t)n);
  broadcast(m, type, io_buf, (size_t)n);
  return PUMP_DATA;
}

static void on_output(struct monitor *m, int *fd, const char *stream,
                      uint8_t type)
{
  if (pump_output(m, *fd, stream, type) == PUMP_EOF)
    unwatch_close(m, fd);
}

/* After init's exit: whatever the pipes or the pty still hold. */
static void drain_outputs(struct monitor *m)
{
  int *fds[] = {&m->out_r, &m->err_r, &m->master};
  const char *streams[] = {"stdout", "stderr", "stdout"};
  uint8_t types[] = {MK_ATTACH_STDOUT, MK_ATTACH_STDERR, MK_ATTACH_STDOUT};

  for (int i = 0; i < 3; i++) {
    if (*fds[i] < 0)
      continue;
    fcntl(*fds[i], F_SETFL, fcntl(*fds[i], F_GETFL) | O_NONBLOCK);
    while (pump_output(m, *fds[i], streams[i], types[i]) == PUMP_DATA)
      ;
  }
}

/* ---- init ---- */

static void record_running(struct monitor *m, int workload_pid)
{
  mk_error_t ignored;

  (void)workload_pid;
  snprintf(m->st.status, sizeof(m->st.status), "running");
  m->st.pid = m->child.pid;
  m->st.init_pid = m->child.pid;
  m->st.init_start = mk_proc_start_time(m->child.pid);
  mk_state_set_monitor(&m->st, getpid());
  mk_time_now_rfc3339(m->st.started_at, sizeof(m->st.started_at));
  m->st.finished_at[0] = m->st.error[0] = '\0';
  m->st.exit_code = 0;
  mk_state_write(m->dir, &m->st, &ignored);
}

static void on_init_message(struct monitor *m)
{
  char buf[sizeof(struct mk_msg_error) + MK_ERROR_MSG_MAX];
  uint32_t type;
  int fd;
  mk_error_t err;
  int n = mk_msg_recv(m->child.sock, &type, buf, sizeof(buf), &fd, &err);

  if (n < 0 || type == 0) {
    unwatch_close(m, &m->child.sock);
    return;
  }
  if (type == MK_MSG_PTY_MASTER && fd >= 0 && m->master < 0) {
    m->master = fd;
    watch(m, fd, EV_MASTER);
    return;
  }
  mk_close(fd);
  if (type == MK_MSG_STARTED && (size_t)n == sizeof(struct mk_msg_started)) {
    struct mk_msg_started st;
    memcpy(&st, buf, sizeof(st));
    m->started = 1;
    record_running(m, st.pid);
    if (m->ctl >= 0)
      mk_msg_send(m->ctl, MK_MSG_STARTED, &st, sizeof(st), -1, &err);
    mk_close(m->ctl);
    m->ctl = -1;
  } else if (type == MK_MSG_ERROR && m->ctl >= 0) {
    mk_msg_send(m->ctl, MK_MSG_ERROR, buf, (size_t)n, -1, &err);
  }
}

static void on_init_exit(struct monitor *m)
{
  siginfo_t info = {0};

  if (syscall(SYS_waitid, P_PIDFD, m->child.pidfd, &info, WEXITED, NULL) < 0)
    return;
  m->init_status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8
                                              : info.si_status & 0x7f;
  m->init_exited = 1;
}

static void on_signal(struct monitor *m)
{
  struct signalfd_siginfo si;

  /* SIGTERM/SIGINT/SIGHUP to the monitor go to the container. */
  while (read(m->sigfd, &si, sizeof(si)) == sizeof(si)) {
    int sig = (int)si.ssi_signo;
    if ((sig == SIGTERM || sig == SIGINT || sig == SIGHUP) && !m->init_exited)
      syscall(SYS_pidfd_send_signal, m->child.pidfd, sig, NULL, 0);
  }
}

static void dispatch(struct monitor *m, uint64_t tag)
{
  switch (tag) {
  case EV_INIT_SOCK: on_init_message(m); return;
  case EV_PIDFD: on_init_exit(m); return;
  case EV_SIGNAL: on_signal(m); return;
  case EV_OUT: on_output(m, &m->out_r, "stdout", MK_ATTACH_STDOUT); return;
  case EV_ERR: on_output(m, &m->err_r, "stderr", MK_ATTACH_STDERR); return;
  case EV_MASTER: on_output(m, &m->master, "stdout", MK_ATTACH_STDOUT); return;
  case EV_LISTEN: on_listen(m); return;
  default:
    if (tag >= EV_CLIENT && tag < EV_CLIENT + MAX_CLIENTS)
      on_client(m, &m->clients[tag - EV_CLIENT]);
  }
}

static int mount_rootfs(void *data, int userns_fd, mk_error_t *err)
{
  struct monitor *m = data;

  return mk_overlay_mount(m->lower, m->upper, m->work, m->rootfs, userns_fd,
                          &m->userns, err);
}

/* Bridge networking: mocker configures the namespace init is waiting in,
 * and hands over the sockets that hold the published ports. */
static int await_network(struct monitor *m, mk_error_t *err)
{
  char buf[sizeof(struct mk_msg_error) + MK_ERROR_MSG_MAX];
  uint32_t type;
  int fd, n;

  if (mk_msg_send(m->ctl, MK_MSG_SPAWNED, "", 1, m->child.pidfd, err) < 0)
    return -1;
  for (;;) {
    n = mk_msg_recv(m->ctl, &type, buf, sizeof(buf), &fd, err);
    if (n < 0 || type == 0 || type == MK_MSG_ERROR) {
      mk_close(fd);
      return mk_error_set(err, EIO, "network setup failed");
    }
    if (type == MK_MSG_NET_READY)
      return 0;
    if (type == MK_MSG_HOLD && fd >= 0 && m->nheld < MAX_HELD)
      m->held[m->nheld++] = fd;
    else
      mk_close(fd);
  }
}

/* Network setup failed: mocker reports it; init goes, and the container
 * stays as it was (created or exited). */
__attribute__((noreturn)) static void abandon_start(struct monitor *m)
{
  mk_error_t ignored;
  siginfo_t info;

  syscall(SYS_pidfd_send_signal, m->child.pidfd, SIGKILL, NULL, 0);
  syscall(SYS_waitid, P_PIDFD, m->child.pidfd, &info, WEXITED, NULL);
  mk_cgroup_destroy(&m->cgroup, &ignored);
  _exit(MK_EXIT_MOCKER_FAILED);
}

static int netns_choice(const struct monitor *m)
{
  if (m->netns_fd >= 0)
    return m->netns_fd;
  return m->host_net ? MK_NETNS_HOST : MK_NETNS_NEW;
}

static int start_container(struct monitor *m, size_t config_len,
                           mk_error_t *err)
{
  int child_fds[3];
  int rc;

  if (setup_stdio(m, child_fds, err) < 0 ||
      install_child_stdio(child_fds, err) < 0)
    return -1;
  struct mk_spawn_hooks hooks = {
      .mount = mount_rootfs, .data = m, .userns = &m->userns};
  rc = mk_spawn_init(INIT_FD, &m->cgroup, netns_choice(m), &hooks, &m->child,
                     err);
  drop_child_stdio(child_fds);
  mk_close(INIT_FD);
  mk_close(m->netns_fd);
  m->netns_fd = -1;
  if (rc < 0)
    return -1;
  if (m->bridge && await_network(m, err) < 0)
    abandon_start(m);
  if (mk_msg_send(m->child.sock, MK_MSG_CONFIG, config_buf, config_len, -1,
                  err) < 0) {
    syscall(SYS_pidfd_send_signal, m->child.pidfd, SIGKILL, NULL, 0);
    return -1;
  }
  return 0;
}

static int watch_all(struct monitor *m)
{
  return watch(m, m->child.sock, EV_INIT_SOCK) < 0 ||
                 watch(m, m->child.pidfd, EV_PIDFD) < 0 ||
                 watch(m, m->sigfd, EV_SIGNAL) < 0 ||
                 (m->out_r >= 0 && watch(m, m->out_r, EV_OUT) < 0) ||
                 (m->err_r >= 0 && watch(m, m->err_r, EV_ERR) < 0) ||
                 (m->listen_fd >= 0 && watch(m, m->listen_fd, EV_LISTEN) < 0)
             ? -1
             : 0;
}

static void run_loop(struct monitor *m)
{
  struct epoll_event evs[16];

  while (!m->init_exited) {
    int n = epoll_wait(m->epfd, evs, MK_ARRAY_SIZE(evs), -1);
    for (int i = 0; i < n; i++)
      dispatch(m, evs[i].data.u64);
  }
  while (m->child.sock >= 0)
    on_init_message(m);
  drain_outputs(m);
}

static void record_exit(struct monitor *m)
{
  char path[PATH_MAX];
  mk_error_t ignored;
  int32_t code = mk_exit_code_from_wait(m->init_status);

  m->st.oom_killed = mk_cgroup_oom_kills(&m->cgroup) > 0;
  mk_cgroup_destroy(&m->cgroup, &ignored);
  snprintf(m->st.status, sizeof(m->st.status), "exited");
  m->st.exit_code = code;
  m->st.pid = m->st.init_pid = 0;
  mk_time_now_rfc3339(m->st.finished_at, sizeof(m->st.finished_at));
  mk_state_write(m->dir, &m->st, &ignored);
  if (mk_snprintf(path, sizeof(path), "%s/attach.sock", m->dir) == 0)
    unlink(path);
  broadcast(m, MK_ATTACH_EXIT, &code, sizeof(code));
}

/* Published ports go back to the host, and `mocker network release`
 * takes the endpoint down (veth, address, DNAT, peers' /etc/hosts),
 * before the container reads as exited. */
static void release_network(struct monitor *m)
{
  char *argv[] = {"mocker",  "--root",  (char *)m->root,
                  "network", "release", (char *)m->id,
                  NULL};
  pid_t pid;

  for (size_t i = 0; i < m->nheld; i++)
    mk_close(m->held[i]);
  m->nheld = 0;
  if (!m->bridge)
    return;
  pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(m->mocker, argv);
    _exit(MK_EXIT_MOCKER_FAILED);
  }
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
}

/* --rm: `mocker rm -v` does the removal; our run lock (close-on-exec)
 * goes away with the exec. */
__attribute__((noreturn)) static void exec_remove(struct monitor *m)
{
  char *argv[] = {"mocker",      "--root", (char *)m->root, "rm", "--volumes",
                  (char *)m->id, NULL};

  execv(m->mocker, argv);
  _exit(MK_EXIT_MOCKER_FAILED);
}

static int parse_args(struct monitor *m, int argc, char **argv)
{
  if (argc != 7)
    return -1;
  m->dir = argv[1];
  m->root = argv[2];
  m->mocker = argv[3];
  m->id = argv[4];
  m->tty = strchr(argv[5], 't') != NULL;
  m->stdin_open = strchr(argv[5], 'i') != NULL;
  m->autoremove = strchr(argv[5], 'r') != NULL;
  m->bridge = strchr(argv[5], 'n') != NULL;
  m->host_net = strchr(argv[5], 'h') != NULL;
  if (strchr(argv[5], 'a'))
    m->clients[0].fd = ATTACH_FD;
  return mk_snprintf(m->upper, sizeof(m->upper), "%s/upper", m->dir) < 0 ||
                 mk_snprintf(m->work, sizeof(m->work), "%s/work", m->dir) < 0 ||
                 mk_snprintf(m->rootfs, sizeof(m->rootfs), "%s/rootfs",
                             m->dir) < 0
             ? -1
             : 0;
}

static void init_monitor(struct monitor *m)
{
  memset(m, 0, sizeof(*m));
  m->ctl = CTL_FD;
  m->listen_fd = m->out_r = m->err_r = m->in_w = m->master = -1;
  m->netns_fd = -1;
  m->child.pidfd = m->child.sock = -1;
  for (int i = 0; i < MAX_CLIENTS; i++)
    m->clients[i].fd = -1;
}

int main(int argc, char **argv)
{
  static struct monitor m;
  mk_error_t err = {0};
  size_t config_len = 0;
  sigset_t all;
  long long log_max;

  init_monitor(&m);
  if (parse_args(&m, argc, argv) < 0 || fcntl(CTL_FD, F_GETFD) < 0) {
    fprintf(stderr, "mocker-monitor: must be started by mocker\n");
    return MK_EXIT_MOCKER_FAILED;
  }
  log_max = atoll(argv[6]);
  if (chdir("/") < 0 || mk_state_read(m.dir, &m.st, &err) < 0)
    memset(&m.st, 0, sizeof(m.st));
  for (int fd = CTL_FD; fd <= ATTACH_FD; fd++)
    fcntl(fd, F_SETFD, FD_CLOEXEC);
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  m.sigfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  m.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (m.sigfd < 0 || m.epfd < 0) {
    mk_error_sys(&err, errno, "monitor setup");
    reply_error(&m, &err);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (m.clients[0].fd >= 0 && watch(&m, ATTACH_FD, EV_CLIENT) < 0)
    m.clients[0].fd = -1;
  if (receive_launch(&m, &config_len, &err) < 0 ||
      mk_logfile_open(&m.log, m.dir, log_max, &err) < 0 ||
      start_container(&m, config_len, &err) < 0) {
    reply_error(&m, &err);
    return MK_EXIT_MOCKER_FAILED;
  }
  m.listen_fd = listen_attach(&m);
  if (watch_all(&m) < 0) {
    mk_error_sys(&err, errno, "epoll_ctl");
    reply_error(&m, &err);
    syscall(SYS_pidfd_send_signal, m.child.pidfd, SIGKILL, NULL, 0);
  }
  run_loop(&m);
  mk_logfile_close(&m.log);
  release_network(&m);
  record_exit(&m);
  for (int i = 0; i < MAX_CLIENTS; i++)
    mk_close(m.clients[i].fd);
  if (m.autoremove)
    exec_remove(&m);
  return 0;
}
