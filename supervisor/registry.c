#include "registry.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mk_util.h"
#include "regconfig.h"
#include "strv.h"

#define USER_AGENT "mocker/" MK_VERSION
#define MAX_ATTEMPTS 5
#define SYSTEM_CA_DIR "/etc/ssl/certs"

/* What one HTTP exchange produced: headers of the final response. */
struct response {
  long status;
  char content_type[256];
  char digest[128];
  char www_auth[2048];
};

struct transfer {
  struct response *resp;
  size_t (*body)(struct transfer *t, const char *buf, size_t len);
  struct mk_buf *buf;
  mk_blob_sink sink;
  void *sink_data;
  uint64_t *received;
  uint64_t from; /* resume offset we asked for */
  uint64_t skip; /* bytes to drop when a resume was answered with 200 */
  int content;   /* the current response is 200/206: its body is data */
  int sink_failed;
};

void mk_buf_free(struct mk_buf *b)
{
  free(b->data);
  memset(b, 0, sizeof(*b));
}

static int buf_append(struct mk_buf *b, const char *p, size_t n)
{
  if (b->len + n > b->max)
    return -1;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 8192;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
      return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

/* Copies a header's value (trimmed) if the line is that header. */
static void grab_header(const char *line, size_t n, const char *name, char *out,
                        size_t size)
{
  size_t k = strlen(name);

  if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
    return;
  const char *v = line + k + 1;
  const char *end = line + n;
  while (v < end && isspace((unsigned char)*v))
    v++;
  while (end > v && isspace((unsigned char)end[-1]))
    end--;
  snprintf(out, size, "%.*s", (int)(end - v), v);
}

/* Called for every header of every response in a redirect chain; a new
 * status line starts over, so what remains is the final response's. */
static size_t on_header(char *line, size_t size, size_t nitems, void *data)
{
  struct transfer *t = data;
  size_t n = size * nitems;

  if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
    struct response *r = t->resp;
    const char *sp = memchr(line, ' ', n);
    r->content_type[0] = r->digest[0] = r->www_auth[0] = '\0';
    /* A server that ignores Range resends everything: drop what we had.
     * Only a 200 or 206 body is content; an error page must never reach
     * the sink (nor count towards the resume offset). */
    t->skip = (sp && strncmp(sp + 1, "200", 3) == 0) ? t->from : 0;
    t->content = sp && (strncmp(sp + 1, "200", 3) == 0 ||
                        strncmp(sp + 1, "206", 3) == 0);
  }
  grab_header(line, n, "Content-Type", t->resp->content_type,
              sizeof(t->resp->content_type));
  grab_header(line, n, "Docker-Content-Digest", t->resp->digest,
              sizeof(t->resp->digest));
  grab_header(line, n, "WWW-Authenticate", t->resp->www_auth,
              sizeof(t->resp->www_auth));
  return n;
}

static size_t on_body(char *p, size_t size, size_t nitems, void *data)
{
  struct transfer *t = data;
  size_t n = size * nitems;

  if (!t->content)
    return n; /* the body of an error or redirect response */
  return t->body(t, p, n) == n ? n : 0;
}

static size_t body_to_buf(struct transfer *t, const char *p, size_t n)
{
  return buf_append(t->buf, p, n) == 0 ? n : 0;
}

static size_t body_to_sink(struct transfer *t, const char *p, size_t n)
{
  size_t drop = t->skip < n ? (size_t)t->skip : n;

  t->skip -= drop;
  if (n > drop && t->sink(t->sink_data, p + drop, n - drop) < 0) {
    t->sink_failed = 1;
    return 0;
  }
  *t->received += n - drop;
  return n;
}

static void setup_auth(struct mk_registry *r, CURL *h)
{
  const struct mk_curl *c = r->curl;

  /* Both are sent only to the host of the URL we asked for: libcurl drops
   * them on a redirect to another host (CURLOPT_UNRESTRICTED_AUTH is
   * never set), so blob storage never sees our credentials. */
  if (r->token) {
    c->easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
    c->easy_setopt(h, CURLOPT_XOAUTH2_BEARER, r->token);
  } else if (r->basic && r->credentials) {
    c->easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    c->easy_setopt(h, CURLOPT_USERPWD, r->credentials);
  }
}

static CURL *new_handle(struct mk_registry *r, const char *url,
                        struct curl_slist *headers, struct transfer *t)
{
  const struct mk_curl *c = r->curl;
  CURL *h = c->easy_init();

  if (!h)
    return NULL;
  c->easy_setopt(h, CURLOPT_URL, url);
  c->easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
  c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  c->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  c->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  c->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  c->easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
  c->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  c->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
  c->easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  c->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  c->easy_setopt(h, CURLOPT_HEADERDATA, t);
  c->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  c->easy_setopt(h, CURLOPT_WRITEDATA, t);
  if (r->skip_verify) {
    c->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    c->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (r->ca_file[0]) {
    c->easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
    c->easy_setopt(h, CURLOPT_CAPATH, SYSTEM_CA_DIR);
  }
  setup_auth(r, h);
  return h;
}

/* One HTTP GET. Returns the CURLcode; resp->status holds the HTTP status. */
static CURLcode perform(struct mk_registry *r, const char *url,
                        const char *accept, uint64_t from, struct transfer *t)
{
  const struct mk_curl *c = r->curl;
  struct curl_slist *headers = NULL;
  char line[1024];
  CURLcode rc;

  if (accept) {
    snprintf(line, sizeof(line), "Accept: %s", accept);
    headers = c->slist_append(headers, line);
  }
  CURL *h = new_handle(r, url, headers, t);
  if (!h) {
    c->slist_free_all(headers);
    return CURLE_OUT_OF_MEMORY;
  }
  if (from)
    c->easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)from);
  memset(t->resp, 0, sizeof(*t->resp));
  rc = c->easy_perform(h);
  c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t->resp->status);
  c->easy_cleanup(h);
  c->slist_free_all(headers);
  return rc;
}

static void backoff(int attempt)
{
  struct timespec ts = {0, (long)(100 * 1000 * 1000) << attempt};

  while (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  nanosleep(&ts, NULL);
}

static int transient(CURLcode rc, long status)
{
  if (rc == CURLE_OK)
    return status >= 500 || status == 408;
  switch (rc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_GOT_NOTHING:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM: return 1;
  default: return 0;
  }
}

/* Copies a quoted-string (after its opening quote), undoing \-escapes,
 * into dst (cap bytes; dst may be NULL to skip). Returns the position
 * after the closing quote, or NULL if there is none or it is too long. */
static const char *unquote(const char *v, char *dst, size_t cap)
{
  size_t o = 0;

  for (; *v && *v != '"'; v++) {
    if (*v == '\\' && v[1])
      v++;
    if (dst && o + 1 >= cap)
      return NULL;
    if (dst)
      dst[o++] = *v;
  }
  if (*v != '"')
    return NULL;
  if (dst)
    dst[o] = '\0';
  return v + 1;
}

static char *param_slot(const char *key, size_t klen, char *realm,
                        char *service, char *scope, size_t *cap)
{
  if (klen == 5 && strncasecmp(key, "realm", 5) == 0)
    return *cap = 1024, realm;
  if (klen == 7 && strncasecmp(key, "service", 7) == 0)
    return *cap = 256, service;
  if (klen == 5 && strncasecmp(key, "scope", 5) == 0)
    return *cap = 512, scope;
  return *cap = 0, NULL;
}

int mk_parse_www_authenticate(const char *value, char scheme[16],
                              char realm[1024], char service[256],
                              char scope[512])
{
  const char *p = value;
  size_t n = strcspn(p, " ");

  realm[0] = service[0] = scope[0] = '\0';
  if (n == 0 || n >= 16)
    return -1;
  snprintf(scheme, 16, "%.*s", (int)n, p);
  p += n;
  while (*p) {
    while (*p == ' ' || *p == ',')
      p++;
    const char *eq = strchr(p, '=');
    if (!eq)
      break;
    size_t cap;
    char *dst = param_slot(p, (size_t)(eq - p), realm, service, scope, &cap);
    const char *v = eq + 1;
    if (*v == '"') {
      p = unquote(v + 1, dst, cap);
      if (!p) { /* unterminated, or too long for its field */
        realm[0] = service[0] = scope[0] = '\0';
        return -1;
      }
      continue;
    }
    size_t len = strcspn(v, ",");
    if (dst && len < cap)
      snprintf(dst, cap, "%.*s", (int)len, v);
    p = v + len;
  }
  return 0;
}

static int http_error(struct mk_registry *r, const char *what, CURLcode rc,
                      long status, mk_error_t *err)
{
  if (rc != CURLE_OK)
    return mk_error_set(err, EIO, "%s from %s: %s", what, r->host,
                        r->curl->easy_strerror(rc));
  if (status == 401 || status == 403)
    return mk_error_set(err, EACCES,
                        "%s from %s: access denied (HTTP %ld): the "
                        "repository does not exist or requires 'mocker "
                        "login'",
                        what, r->host, status);
  if (status == 404)
    return mk_error_set(err, ENOENT, "%s not found on %s (HTTP 404)", what,
                        r->host);
  if (status == 429)
    return mk_error_set(err, EAGAIN,
                        "%s from %s: toomanyrequests (HTTP 429): the "
                        "registry's rate limit was reached (Docker Hub "
                        "limits anonymous pulls; 'mocker login' raises it)",
                        what, r->host);
  return mk_error_set(err, EIO, "%s from %s: unexpected HTTP %ld", what,
                      r->host, status);
}

static size_t body_discard(struct transfer *t, const char *p, size_t n)
{
  (void)t;
  (void)p;
  return n;
}

/* The Bearer dance: GET realm?service=...&scope=... (with Basic
 * credentials when we have them) and read "token" or "access_token". */
static int fetch_token(struct mk_registry *r, const char *scope,
                       mk_error_t *err)
{
  const struct mk_curl *c = r->curl;
  struct mk_buf body = {.max = 1024 * 1024};
  struct response resp = {0};
  struct transfer t = {.resp = &resp, .body = body_to_buf, .buf = &body};
  char *esc_service = c->easy_escape(NULL, r->service, 0);
  char *esc_scope = c->easy_escape(NULL, scope, 0);
  struct mk_strv url = {0};
  CURLcode rc;
  int result = -1;

  mk_strv_pushf(&url, "%s%sservice=%s%s%s", r->realm,
                strchr(r->realm, '?') ? "&" : "?",
                esc_service ? esc_service : "", *scope ? "&scope=" : "",
                *scope && esc_scope ? esc_scope : "");
  c->free(esc_service);
  c->free(esc_scope);
  char *saved_token = r->token;
  int saved_basic = r->basic;
  r->token = NULL;
  r->basic = r->credentials != NULL;
  rc = perform(r, url.v[0], "application/json", 0, &t);
  r->token = saved_token;
  r->basic = saved_basic;
  if (rc != CURLE_OK || resp.status != 200) {
    http_error(r, "token", rc, resp.status, err);
    goto out;
  }
  json_t *doc = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
  const char *tok = json_string_value(json_object_get(doc, "token"));
  if (!tok || !*tok)
    tok = json_string_value(json_object_get(doc, "access_token"));
  if (tok && *tok) {
    free(r->token);
    r->token = mk_xstrdup(tok);
    result = 0;
  } else {
    mk_error_set(err, EPROTO, "token server %s sent no token", r->realm);
  }
  json_decref(doc);
out:
  mk_buf_free(&body);
  mk_strv_free(&url);
  return result;
}

/* Reacts to a 401 challenge; returns 0 when a retry may now succeed. */
static int answer_challenge(struct mk_registry *r, const char *www_auth,
                            mk_error_t *err)
{
  char scheme[16], scope[512], want[600];

  if (mk_parse_www_authenticate(www_auth, scheme, r->realm, r->service, scope) <
      0)
    return mk_error_set(err, EPROTO, "%s: bad WWW-Authenticate `%s`", r->host,
                        www_auth);
  if (strcasecmp(scheme, "Basic") == 0) {
    if (!r->credentials || r->basic)
      return mk_error_set(err, EACCES,
                          "%s requires a login: run 'mocker login %s'", r->host,
                          r->host);
    r->basic = 1;
    return 0;
  }
  if (strcasecmp(scheme, "Bearer") != 0 || !r->realm[0])
    return mk_error_set(err, EPROTO, "%s: unsupported auth `%s`", r->host,
                        www_auth);
  /* A login check has no repository: a token for no scope proves the
   * credentials, as docker login does. */
  if (r->repo[0])
    snprintf(want, sizeof(want), "repository:%s:pull", r->repo);
  else
    want[0] = '\0';
  return fetch_token(r, scope[0] ? scope : want, err);
}

/* GET with retries, auth and (on the first request) scheme discovery. */
static int get(struct mk_registry *r, const char *what, const char *path,
               const char *accept, struct transfer *t, uint64_t *resume,
               mk_error_t *err)
{
  int authed = 0;

  for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    char url[4096];
    uint64_t from = resume ? *resume : 0;
    snprintf(url, sizeof(url), "%s://%s%s", r->scheme, r->host, path);
    t->skip = 0;
    t->from = from;
    if (t->buf)
      t->buf->len = 0; /* a retried manifest starts over */
    CURLcode rc = perform(r, url, accept, from, t);
    long st = t->resp->status;
    if (t->sink_failed)
      return -1; /* the sink's own error is in its error object */
    if (rc == CURLE_OK && (st == 200 || st == 206))
      return 0;
    if (rc == CURLE_OK && st == 401 && !authed && t->resp->www_auth[0]) {
      if (answer_challenge(r, t->resp->www_auth, err) < 0)
        return -1;
      authed = 1;
      attempt--;
      continue;
    }
    if (!transient(rc, st) || attempt + 1 == MAX_ATTEMPTS)
      return http_error(r, what, rc, st, err);
    backoff(attempt);
  }
  return -1;
}

int mk_registry_open(struct mk_registry *r, const char *host, const char *repo,
                     mk_error_t *err)
{
  memset(r, 0, sizeof(*r));
  if (!(r->curl = mk_curl_load(err)))
    return -1;
  snprintf(r->host, sizeof(r->host), "%s",
           strcmp(host, "docker.io") == 0 ? "registry-1.docker.io" : host);
  snprintf(r->repo, sizeof(r->repo), "%s", repo);
  snprintf(r->scheme, sizeof(r->scheme), "https");
  r->credentials = mk_registry_credentials(host);
  r->insecure = mk_registry_is_insecure(r->host);
  r->skip_verify = mk_registry_listed_insecure(r->host);
  mk_registry_ca_file(r->host, r->ca_file);
  return 0;
}

void mk_registry_close(struct mk_registry *r)
{
  free(r->credentials);
  free(r->token);
  r->credentials = r->token = NULL;
}

void mk_registry_clone(struct mk_registry *dst, const struct mk_registry *src)
{
  *dst = *src;
  dst->credentials = src->credentials ? mk_xstrdup(src->credentials) : NULL;
  dst->token = src->token ? mk_xstrdup(src->token) : NULL;
}

/* GET /v2/; a 5xx answer is retried with backoff (a connection failure is
 * not: that is how a plain-HTTP registry shows on https). */
static int ping(struct mk_registry *r, struct transfer *t)
{
  char url[512];

  snprintf(url, sizeof(url), "%s://%s/v2/", r->scheme, r->host);
  for (int attempt = 0;; attempt++) {
    CURLcode rc = perform(r, url, NULL, 0, t);
    if (rc != CURLE_OK || t->resp->status <= 0)
      return (int)rc ? (int)rc : -1;
    if (!transient(rc, t->resp->status) || attempt + 1 == MAX_ATTEMPTS)
      return 0;
    backoff(attempt);
  }
}

int mk_registry_connect(struct mk_registry *r, mk_error_t *err)
{
  struct response resp = {0};
  struct transfer t = {.resp = &resp, .body = body_discard};
  int rc = ping(r, &t);

  /* HTTPS first; plain HTTP only for loopback and insecure-registries,
   * and only when HTTPS cannot be spoken at all. A registry that speaks
   * HTTPS always has its certificate checked. */
  if (rc != 0 && r->insecure && rc != CURLE_PEER_FAILED_VERIFICATION) {
    snprintf(r->scheme, sizeof(r->scheme), "http");
    rc = ping(r, &t);
  }
  if (rc != 0)
    return mk_error_set(err, EIO, "cannot reach registry %s: %s", r->host,
                        r->curl->easy_strerror((CURLcode)rc));
  if (resp.status == 401 && resp.www_auth[0])
    return answer_challenge(r, resp.www_auth, err);
  if (resp.status != 200)
    return http_error(r, "ping", CURLE_OK, resp.status, err);
  return 0;
}

int mk_registry_check_login(struct mk_registry *r, mk_error_t *err)
{
  struct response resp = {0};
  struct transfer t = {.resp = &resp, .body = body_discard};

  if (mk_registry_connect(r, err) < 0)
    return err->err == EACCES
               ? mk_error_set(err, EACCES,
                              "login to %s failed: unauthorized: incorrect "
                              "username or password",
                              r->host)
               : -1;
  if (ping(r, &t) != 0)
    return mk_error_set(err, EIO, "cannot reach registry %s", r->host);
  if (resp.status == 200)
    return 0;
  return mk_error_set(err, EACCES,
                      "login to %s failed: unauthorized: incorrect username "
                      "or password (HTTP %ld)",
                      r->host, resp.status);
}

#define MANIFEST_TYPES                                                         \
  "application/vnd.oci.image.index.v1+json, "                                  \
  "application/vnd.docker.distribution.manifest.list.v2+json, "                \
  "application/vnd.oci.image.manifest.v1+json, "                               \
  "application/vnd.docker.distribution.manifest.v2+json"

int mk_registry_get_manifest(struct mk_registry *r, const char *reference,
                             struct mk_buf *body, char content_type[256],
                             char digest[128], mk_error_t *err)
{
  struct response resp = {0};
  struct transfer t = {.resp = &resp, .body = body_to_buf, .buf = body};
  char path[1024];

  body->max = MK_MANIFEST_MAX;
  char what[600];

  snprintf(path, sizeof(path), "/v2/%s/manifests/%s", r->repo, reference);
  snprintf(what, sizeof(what), "manifest for %s%c%s", r->repo,
           strchr(reference, ':') ? '@' : ':', reference);
  if (get(r, what, path, MANIFEST_TYPES, &t, NULL, err) < 0) {
    if (body->len >= MK_MANIFEST_MAX)
      mk_error_set(err, EFBIG, "manifest `%s` is larger than %d bytes",
                   reference, MK_MANIFEST_MAX);
    return -1;
  }
  snprintf(content_type, 256, "%s", resp.content_type);
  snprintf(digest, 128, "%s", resp.digest);
  return 0;
}

int mk_registry_get_blob(struct mk_registry *r, const char *digest,
                         mk_blob_sink sink, void *data, uint64_t *received,
                         mk_error_t *err)
{
  struct response resp = {0};
  struct transfer t = {.resp = &resp,
                       .body = body_to_sink,
                       .sink = sink,
                       .sink_data = data,
                       .received = received};
  char path[1024];

  snprintf(path, sizeof(path), "/v2/%s/blobs/%s", r->repo, digest);
  return get(r, "blob", path, NULL, &t, received, err);
}
