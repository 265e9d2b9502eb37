/* Regression tests for the container-runtime CVEs in
 * ../shared/REFERENCE.md, named after them. Each replays the attack the
 * advisory describes against mocker and asserts it fails and the host is
 * unchanged.
 *
 * CVE-2021-32760 and friends (layer extraction through symlinks) are
 * covered in depth by tests/integration/check_pull.c (test_hostile_layer,
 * fourteen crafted layers pulled from a local registry); the test here
 * replays a few of the same images through `mocker load`, which needs no
 * registry. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "sec.h"

/* "mk-" + the test dir's unique name: a name an escape would leave on
 * the host, easy to find and to clean. */
static void unique_name(char *out, size_t size)
{
  const char *base = strrchr(h.dir, '/');

  h_fmt(out, size, "mk-%s", base ? base + 1 : h.dir);
}

/* Removes path if an escape made it; whether it did. */
static bool undo_escape(const char *path)
{
  struct stat st;

  if (lstat(path, &st) < 0)
    return false;
  if (S_ISDIR(st.st_mode)) {
    umount2(path, MNT_DETACH);
    rmdir(path);
  } else {
    unlink(path);
  }
  return true;
}

static void run_ok(const char *const argv[])
{
  struct h_res r;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

/* ---- CVE-2019-5736 ---------------------------------------------------- */

/* The container overwrites the host binary that runs in it through
 * /proc/PID/exe. mocker-init runs from a sealed memfd and an exec'd
 * process is the container's own binary; with SYS_PTRACE added (so
 * /proc/1/exe is reachable), every write fails and the host's binaries
 * stay byte-identical. */
START_TEST(test_cve_2019_5736_proc_exe)
{
  char init_path[PATH_MAX], mocker_path[PATH_MAX], *dir;
  struct sec_file init_f, mocker_f, probe_f;
  struct h_res r;
  static const char attack[] =
      "/probe overwrite /proc/1/exe; /probe overwrite /proc/self/exe; "
      "for p in /proc/[0-9]*; do /probe overwrite $p/exe >/dev/null && "
      "echo \"wrote $p/exe -> $(readlink $p/exe)\"; done; true";

  h_fmt(mocker_path, sizeof mocker_path, "%s", h_mocker());
  dir = dirname(mocker_path);
  h_fmt(init_path, sizeof init_path, "%s/mocker-init", dir);
  h_fmt(mocker_path, sizeof mocker_path, "%s", h_mocker());
  sec_file_snapshot(&init_f, init_path);
  sec_file_snapshot(&mocker_f, mocker_path);
  sec_file_snapshot(&probe_f, sec_probe_path());

  H_RUN(&r, "run", "--rm", "--cap-add", "SYS_PTRACE", "-v", PV, "busybox",
        "sh", "-c", attack);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_LACKS(&r, out, "ok");
  H_ASSERT_LACKS(&r, out, "wrote /proc/1/exe");
  h_res_free(&r);

  /* Through `exec`: the process mocker brings in, and pid 1 again. */
  run_ok(H_ARGV("run", "-d", "--name", "c5736", "--cap-add", "SYS_PTRACE",
                "-v", PV, "busybox", "sleep", "60"));
  H_RUN(&r, "exec", "c5736", "sh", "-c", attack);
  H_ASSERT_LACKS(&r, out, "ok");
  H_ASSERT_LACKS(&r, out, "wrote /proc/1/exe");
  h_res_free(&r);
  /* runc's exploit: the image's binary becomes #!/proc/self/exe, so the
   * exec runs whatever binary did the exec. */
  run_ok(H_ARGV("exec", "c5736", "sh", "-c",
                "printf '#!/proc/self/exe\\n' > /bin/evil && "
                "chmod +x /bin/evil"));
  H_RUN(&r, "exec", "c5736", "/bin/evil");
  h_res_free(&r);
  H_RUN(&r, "exec", "c5736", "sh", "-c", attack);
  H_ASSERT_LACKS(&r, out, "ok");
  h_res_free(&r);
  run_ok(H_ARGV("rm", "-f", "c5736"));

  sec_file_assert_same(&init_f);
  sec_file_assert_same(&mocker_f);
  sec_file_assert_same(&probe_f);
}
END_TEST

/* ---- CVE-2024-21626 --------------------------------------------------- */

/* A host directory fd leaked into mocker, and a working directory under
 * /proc/self/fd/N: the workload must neither hold the fd nor start in
 * the host directory (runc's exploit: -w /proc/self/fd/7, then ../..). */
START_TEST(test_cve_2024_21626_leaked_fd_and_cwd)
{
  char marker[4200], wd[64];
  struct h_res r;
  int fd;

  h_fmt(marker, sizeof marker, "%s/host-marker", h.host);
  h_write_file(marker, "host-only\n");
  fd = open(h.host, O_RDONLY | O_DIRECTORY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(dup2(fd, 7), 7);
  close(fd);

  H_RUN(&r, "run", "--rm", "-v", PV, "busybox", "/probe", "fds");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "0\n1\n2\n");
  h_res_free(&r);
  for (int n = 3; n <= 9; n++) {
    snprintf(wd, sizeof wd, "/proc/self/fd/%d", n);
    H_RUN(&r, "run", "--rm", "-w", wd, "busybox", "sh", "-c",
          "cat host-marker ../host-marker 2>/dev/null; pwd; ls");
    H_ASSERT_LACKS(&r, out, "host-only");
    H_ASSERT_LACKS(&r, out, "host-marker");
    h_res_free(&r);
  }
  run_ok(H_ARGV("run", "-d", "--name", "c21626", "busybox", "sleep", "60"));
  H_RUN(&r, "exec", "-w", "/proc/self/fd/7", "c21626", "sh", "-c",
        "cat host-marker 2>/dev/null; ls");
  H_ASSERT_LACKS(&r, out, "host-only");
  H_ASSERT_LACKS(&r, out, "host-marker");
  h_res_free(&r);
  H_RUN(&r, "exec", "c21626", "ls", "/proc/self/fd");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "0\n1\n2\n3\n"); /* 3: ls's own listing */
  h_res_free(&r);
  close(7);
  run_ok(H_ARGV("rm", "-f", "c21626"));
}
END_TEST

/* ---- CVE-2021-30465 --------------------------------------------------- */

/* A -v target path through a symlink planted in a (shared, named) volume:
 * to / and to a host directory. The bind lands inside the container,
 * and nothing is created or mounted on the host. */
START_TEST(test_cve_2021_30465_symlink_volume_target)
{
  char name[128], victim[4200], src[4200], f[4300], script[4600];
  char spec[8600], hostpath[300], made[4400], cat[256];
  struct h_res r;
  bool escaped;

  unique_name(name, sizeof name);
  h_fmt(victim, sizeof victim, "%s/victim", h.host);
  h_fmt(src, sizeof src, "%s/src", h.host);
  ck_assert_int_eq(mkdir(victim, 0755), 0);
  ck_assert_int_eq(mkdir(src, 0755), 0);
  h_fmt(f, sizeof f, "%s/file", src);
  h_write_file(f, "from-src\n");

  h_fmt(script, sizeof script, "ln -s / /s/toroot && ln -s %s /s/tohost",
        victim);
  run_ok(H_ARGV("run", "--rm", "-v", "plant:/s", "busybox", "sh", "-c",
                script));

  /* Through a symlink to /: lands at the container's /NAME. */
  h_fmt(spec, sizeof spec, "%s:/s/toroot/%s", src, name);
  h_fmt(cat, sizeof cat, "cat /%s/file", name);
  H_RUN(&r, "run", "--rm", "-v", "plant:/s", "-v", spec, "busybox", "sh",
        "-c", cat);
  h_fmt(hostpath, sizeof hostpath, "/%s", name);
  escaped = undo_escape(hostpath);
  ck_assert_msg(!escaped, "`%s` made %s on the host", h_last_cmd(), hostpath);
  ck_assert_msg(r.status == 125 || (r.status == 0 &&
                                    !strcmp(r.out, "from-src\n")),
                "`%s`: exit %d, stdout \"%s\"\n%s", h_last_cmd(), r.status,
                r.out, r.err);
  h_res_free(&r);

  /* Through a symlink to a host directory. */
  h_fmt(spec, sizeof spec, "%s:/s/tohost/%s", src, name);
  H_RUN(&r, "run", "--rm", "-v", "plant:/s", "-v", spec, "busybox", "true");
  h_fmt(made, sizeof made, "%s/%s", victim, name);
  escaped = undo_escape(made);
  ck_assert_msg(!escaped, "`%s` made %s on the host", h_last_cmd(), made);
  ck_assert_msg(r.status == 0 || r.status == 125, "`%s`: exit %d\n%s",
                h_last_cmd(), r.status, r.err);
  h_res_free(&r);
}
END_TEST

/* The race itself: one container flips /s/d between a directory and a
 * symlink to / while others start with a bind on /s/d/NAME. */
START_TEST(test_cve_2021_30465_symlink_swap_race)
{
  char name[128], src[4200], spec[4600], hostpath[300];
  struct h_res r;
  bool escaped = false;

  unique_name(name, sizeof name);
  h_fmt(src, sizeof src, "%s/src", h.host);
  ck_assert_int_eq(mkdir(src, 0755), 0);
  run_ok(H_ARGV("run", "-d", "--name", "swapper", "-v", "race:/s", "busybox",
                "sh", "-c",
                "while :; do rm -rf /s/d; mkdir /s/d; rm -rf /s/d; "
                "ln -s / /s/d; done"));
  h_fmt(spec, sizeof spec, "%s:/s/d/%s", src, name);
  h_fmt(hostpath, sizeof hostpath, "/%s", name);
  for (int i = 0; i < 15 && !escaped; i++) {
    H_RUN(&r, "run", "--rm", "-v", "race:/s", "-v", spec, "busybox", "true");
    escaped = undo_escape(hostpath);
    ck_assert_msg(r.status == 0 || r.status == 125, "`%s`: exit %d\n%s",
                  h_last_cmd(), r.status, r.err);
    h_res_free(&r);
  }
  run_ok(H_ARGV("rm", "-f", "swapper"));
  ck_assert_msg(!escaped, "a swapped symlink made %s on the host", hostpath);
}
END_TEST

/* ---- CVE-2022-29162 --------------------------------------------------- */

#define DOCKER_CAPS "00000000a80425fb"

START_TEST(test_cve_2022_29162_capabilities)
{
  static const char want_root[] =
      "CapInh:\t0000000000000000\nCapPrm:\t" DOCKER_CAPS "\nCapEff:\t" DOCKER_CAPS
      "\nCapBnd:\t" DOCKER_CAPS "\nCapAmb:\t0000000000000000\n";
  static const char want_user[] =
      "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t"
      "0000000000000000\nCapBnd:\t" DOCKER_CAPS
      "\nCapAmb:\t0000000000000000\n";
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "grep", "^Cap", "/proc/self/status");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, want_root);
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "-u", "1000", "busybox", "grep", "^Cap",
        "/proc/self/status");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, want_user);
  h_res_free(&r);
  /* --cap-add never reaches the inheritable or ambient sets. */
  H_RUN(&r, "run", "--rm", "--cap-add", "ALL", "busybox", "grep",
        "-e", "^CapInh", "-e", "^CapAmb", "/proc/self/status");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "CapInh:\t0000000000000000\nCapAmb:\t0000000000000000\n");
  h_res_free(&r);
  /* An exec'd process gets the same. */
  run_ok(H_ARGV("run", "-d", "--name", "c29162", "busybox", "sleep", "60"));
  H_RUN(&r, "exec", "c29162", "grep", "^Cap", "/proc/self/status");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, want_root);
  h_res_free(&r);
  H_RUN(&r, "exec", "-u", "1000", "c29162", "grep", "^Cap",
        "/proc/self/status");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, want_user);
  h_res_free(&r);
  run_ok(H_ARGV("rm", "-f", "c29162"));
}
END_TEST

/* ---- CVE-2019-14271 --------------------------------------------------- */

/* The container's nsswitch.conf names a module of its own that, if any
 * mocker process loaded it, would drop a marker on the host. `-u evil`
 * is looked up by parsing the container's /etc/passwd: it resolves, and
 * the marker never appears. (The files come in through binds rather than
 * an image layer: the lookup reads the mounted view either way.) */
START_TEST(test_cve_2019_14271_no_nss)
{
  char etc[4200], lib[4200], loaded[4200], cmd[16384], p[4300];
  char v_pw[8700], v_gr[8700], v_ns[8700], v_lib[8700];
  struct h_res r;

  h_fmt(etc, sizeof etc, "%s/etc", h.host);
  h_fmt(lib, sizeof lib, "%s/lib", h.host);
  h_fmt(loaded, sizeof loaded, "%s/nss-loaded", h.host);
  ck_assert_int_eq(mkdir(etc, 0755), 0);
  ck_assert_int_eq(mkdir(lib, 0755), 0);
  h_fmt(p, sizeof p, "%s/passwd", etc);
  h_write_file(p, "root:x:0:0:root:/root:/bin/sh\n"
                  "evil:x:4242:4242:evil:/home/evil:/bin/sh\n");
  h_fmt(p, sizeof p, "%s/group", etc);
  h_write_file(p, "root:x:0:\nevil:x:4242:\n");
  h_fmt(p, sizeof p, "%s/nsswitch.conf", etc);
  h_write_file(p, "passwd: evil\ngroup: evil\nshadow: evil\nhosts: evil\n");
  h_fmt(cmd, sizeof cmd,
        "printf '%%s\\n' '#include <fcntl.h>' '#include <unistd.h>' "
        "'__attribute__((constructor)) static void pwn(void) {' "
        "'  int fd = open(\"%s\", O_WRONLY | O_CREAT, 0644);' "
        "'  if (fd >= 0) { write(fd, \"loaded\\n\", 7); close(fd); } }' "
        "| gcc -shared -fPIC -x c -o %s/libnss_evil.so.2 -",
        loaded, lib);
  ck_assert_msg(sec_sh(cmd) == 0, "could not build the evil NSS module");

  h_fmt(v_pw, sizeof v_pw, "%s/passwd:/etc/passwd:ro", etc);
  h_fmt(v_gr, sizeof v_gr, "%s/group:/etc/group:ro", etc);
  h_fmt(v_ns, sizeof v_ns, "%s/nsswitch.conf:/etc/nsswitch.conf:ro", etc);
  h_fmt(v_lib, sizeof v_lib, "%s:/lib/x86_64-linux-gnu:ro", lib);
  H_RUN(&r, "run", "--rm", "-v", v_pw, "-v", v_gr, "-v", v_ns, "-v", v_lib,
        "-u", "evil", "busybox", "id", "-u");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "4242\n");
  h_res_free(&r);
  ck_assert_msg(!h_exists(loaded), "the container's NSS module was loaded");

  run_ok(H_ARGV("run", "-d", "--name", "c14271", "-v", v_pw, "-v", v_gr, "-v",
                v_ns, "-v", v_lib, "busybox", "sleep", "60"));
  H_RUN(&r, "exec", "-u", "evil:evil", "c14271", "id");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "uid=4242");
  h_res_free(&r);
  /* `top` names users; the container's module must not be what it uses. */
  H_RUN(&r, "top", "c14271");
  h_res_free(&r);
  run_ok(H_ARGV("rm", "-f", "c14271"));
  ck_assert_msg(!h_exists(loaded), "the container's NSS module was loaded");
}
END_TEST

/* ---- CVE-2021-32760 and friends --------------------------------------- */

static void assert_no_token_in(const char *dir, const char *token)
{
  DIR *d = opendir(dir);
  struct dirent *e;

  while (d && (e = readdir(d)))
    ck_assert_msg(!strstr(e->d_name, token), "escaped into %s: %s", dir,
                  e->d_name);
  if (d)
    closedir(d);
}

/* Layers that aim symlinks and hardlinks at a victim directory, loaded
 * from a docker archive: refused or contained, the victim untouched. */
START_TEST(test_cve_2021_32760_hostile_layers)
{
  static const char *const cases[] = {
      "hostile-symlink-abs",    "hostile-symlink-rel",
      "hostile-symlink-dir",    "hostile-symlink-file",
      "hostile-symlink-chmod",  "hostile-hardlink-abs",
      "hostile-whiteout-symlink", "hostile-across",
  };
  char token[128], victim[4200], secret[4300], out[4200], cmd[16384];
  char tarball[4400], scripts[PATH_MAX];
  struct sec_file secret_f;
  struct stat st;
  struct h_res r;

  unique_name(token, sizeof token);
  h_fmt(victim, sizeof victim, "%s/victim", h.host);
  h_fmt(secret, sizeof secret, "%s/secret.txt", victim);
  h_fmt(out, sizeof out, "%s/hostile", h.host);
  ck_assert_int_eq(mkdir(victim, 0755), 0);
  h_write_file(secret, "secret\n");
  chmod(secret, 0600);
  sec_file_snapshot(&secret_f, secret);
  /* tests/registry next to build/ (MOCKER is build/mocker). */
  h_fmt(cmd, sizeof cmd, "%s", h_mocker());
  h_fmt(tarball, sizeof tarball, "%s/../tests/registry", dirname(cmd));
  ck_assert_ptr_nonnull(realpath(tarball, scripts));
  h_fmt(cmd, sizeof cmd,
        "python3 '%s/make-test-images.py' hostile '%s' '%s' '%s' >/dev/null",
        scripts, out, victim, token);
  ck_assert_msg(sec_sh(cmd) == 0, "`%s` failed", cmd);

  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    /* A docker-save archive: manifest.json, config.json, the layers. */
    h_fmt(tarball, sizeof tarball, "%s/%s.tar", out, cases[i]);
    h_fmt(cmd, sizeof cmd,
          "cd '%s/%s' && L=$(awk '{print \"\\\"\" $1 \"\\\"\"}' layers "
          "| paste -sd, -) && printf '[{\"Config\":\"config.json\",\"RepoTags\":"
          "[\"%s:latest\"],\"Layers\":[%%s]}]' \"$L\" > manifest.json && "
          "tar -cf '%s' manifest.json config.json $(awk '{print $1}' layers)",
          out, cases[i], cases[i], tarball);
    ck_assert_msg(sec_sh(cmd) == 0, "`%s` failed", cmd);
    H_RUN(&r, "load", "-i", tarball);
    /* Refused (any error exit, as `docker load`) or loaded. */
    ck_assert_msg(r.status >= 0, "`%s`: status %d\n%s", h_last_cmd(),
                  r.status, r.err);
    if (r.status == 0)
      fprintf(stderr, "check_cve: %s: loaded, contained\n", cases[i]);
    else
      fprintf(stderr, "check_cve: %s: refused: %s", cases[i], r.err);
    h_res_free(&r);

    ck_assert(lstat(victim, &st) == 0 && S_ISDIR(st.st_mode));
    ck_assert_msg((st.st_mode & 07777) == 0755, "%s: victim dir mode now %o",
                  cases[i], st.st_mode & 07777);
    assert_no_token_in(victim, token);
    assert_no_token_in("/", token);
    assert_no_token_in("/tmp", token);
  }
  sec_file_assert_same(&secret_f);
}
END_TEST

static Suite *cve_suite(void)
{
  Suite *s = suite_create("cve");
  TCase *tc = h_tcase("cve", 120);

  tcase_add_test(tc, test_cve_2019_5736_proc_exe);
  tcase_add_test(tc, test_cve_2024_21626_leaked_fd_and_cwd);
  tcase_add_test(tc, test_cve_2021_30465_symlink_volume_target);
  tcase_add_test(tc, test_cve_2021_30465_symlink_swap_race);
  tcase_add_test(tc, test_cve_2022_29162_capabilities);
  tcase_add_test(tc, test_cve_2019_14271_no_nss);
  tcase_add_test(tc, test_cve_2021_32760_hostile_layers);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(cve_suite());
}
