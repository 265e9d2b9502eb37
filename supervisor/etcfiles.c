#include "etcfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mk_util.h"

#define HOST_RESOLV "/etc/resolv.conf"

static int write_small_file(const char *dir, const char *name, const char *text,
                            mk_error_t *err)
{
  char path[PATH_MAX];
  _cleanup_close_ int fd = -1;

  mk_snprintf(path, sizeof(path), "%s/%s", dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 || mk_write_all(fd, text, strlen(text)) < 0)
    return mk_error_sys(err, errno, "write `%s`", path);
  return 0;
}

static int is_loopback_nameserver(const char *line)
{
  char addr[128];

  if (sscanf(line, " nameserver %127s", addr) != 1)
    return 0;
  return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

void mk_container_resolv_conf(const char *host_text, char *out, size_t size)
{
  size_t used = 0;
  int nameservers = 0;
  const char *p = host_text;

  out[0] = '\0';
  while (p && *p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    char line[1024];
    snprintf(line, sizeof(line), "%.*s", (int)n, p);
    if (!is_loopback_nameserver(line) && used + n + 2 < size) {
      char ns[2];
      nameservers += sscanf(line, " nameserver %1s", ns) == 1;
      used += (size_t)snprintf(out + used, size - used, "%s\n", line);
    }
    p = nl ? nl + 1 : NULL;
  }
  if (!nameservers && used < size)
    snprintf(out + used, size - used,
             "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
}

static void read_host_resolv(char *buf, size_t size)
{
  _cleanup_close_ int fd = open(HOST_RESOLV, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? 0 : mk_read_all(fd, buf, size - 1);

  buf[n > 0 ? n : 0] = '\0';
}

int mk_write_etc_files(const char *dir, const char *hostname, mk_error_t *err)
{
  char text[8192], host[8192];

  snprintf(text, sizeof(text), "%s\n", hostname);
  if (write_small_file(dir, "hostname", text, err) < 0)
    return -1;
  /* Until the container has an address of its own (networking), its
   * hostname resolves to 127.0.1.1, Debian's convention, so programs that
   * look up their own name work. */
  snprintf(text, sizeof(text),
           "127.0.0.1\tlocalhost\n"
           "127.0.1.1\t%s\n"
           "::1\tlocalhost ip6-localhost ip6-loopback\n"
           "fe00::0\tip6-localnet\n"
           "ff00::0\tip6-mcastprefix\n"
           "ff02::1\tip6-allnodes\n"
           "ff02::2\tip6-allrouters\n",
           hostname);
  if (write_small_file(dir, "hosts", text, err) < 0)
    return -1;
  read_host_resolv(host, sizeof(host));
  mk_container_resolv_conf(host, text, sizeof(text));
  return write_small_file(dir, "resolv.conf", text, err);
}
