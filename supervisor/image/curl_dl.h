/* libcurl, loaded on first use. Linking it costs ~11 ms of dynamic loading
 * on every exec (33 libraries), which `mocker run` of a present image must
 * not pay; only commands that talk to a registry load it. */
#ifndef MK_CURL_DL_H
#define MK_CURL_DL_H

#include <curl/curl.h>

#include "mk_error.h"

struct mk_curl {
  CURL *(*easy_init)(void);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_perform)(CURL *);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  void (*easy_cleanup)(CURL *);
  void (*easy_reset)(CURL *);
  const char *(*easy_strerror)(CURLcode);
  struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
  void (*slist_free_all)(struct curl_slist *);
  char *(*easy_escape)(CURL *, const char *, int);
  void (*free)(void *);
};

/* The loaded API, or NULL with err set (libcurl not installed). */
const struct mk_curl *mk_curl_load(mk_error_t *err);

#endif
