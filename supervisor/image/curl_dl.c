#include "curl_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#define LIBCURL_SONAME "libcurl.so.4"

static struct mk_curl api;
static const char *load_error;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

struct symbol {
  const char *name;
  size_t offset;
};

#define SYM(field, sym)                                                        \
  {                                                                            \
#sym, offsetof(struct mk_curl, field)                                      \
  }
static const struct symbol symbols[] = {
    SYM(easy_init, curl_easy_init),
    SYM(easy_setopt, curl_easy_setopt),
    SYM(easy_perform, curl_easy_perform),
    SYM(easy_getinfo, curl_easy_getinfo),
    SYM(easy_cleanup, curl_easy_cleanup),
    SYM(easy_reset, curl_easy_reset),
    SYM(easy_strerror, curl_easy_strerror),
    SYM(slist_append, curl_slist_append),
    SYM(slist_free_all, curl_slist_free_all),
    SYM(easy_escape, curl_easy_escape),
    SYM(free, curl_free),
};

/* curl_global_init is not thread-safe in older libcurl: done once here,
 * before any download thread exists. */
static void load(void)
{
  void *h = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
  CURLcode (*global_init)(long);

  if (!h) {
    load_error = dlerror();
    return;
  }
  for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
    void *p = dlsym(h, symbols[i].name);
    if (!p) {
      load_error = dlerror();
      return;
    }
    *(void **)((char *)&api + symbols[i].offset) = p;
  }
  *(void **)&global_init = dlsym(h, "curl_global_init");
  if (!global_init || global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    load_error = "curl_global_init failed";
}

const struct mk_curl *mk_curl_load(mk_error_t *err)
{
  pthread_once(&load_once, load);
  if (load_error) {
    mk_error_set(err, ENOENT, "cannot load %s (install libcurl4): %s",
                 LIBCURL_SONAME, load_error);
    return NULL;
  }
  return &api;
}
