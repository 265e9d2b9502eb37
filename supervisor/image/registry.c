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
#include "base/strv.h"

#define USER_AGENT "mocker/" MK_VERSION
#define MAX_ATTEMPTS 5
#define SYSTEM_CA_DIR "/etc/ssl/certs"

/* Deadlines. A request must connect, and must never stall below
 * LOW_SPEED_BYTES a second, for longer than the timeout; a ping, token
 * or manifest must be done within it, a blob (gigabytes, and resumed when
 * it times out) within BLOB_TIMEOUT_FACTOR times it: an hour by default. */
#define DEFAULT_TIMEOUT_S 30L
#define MAX_TIMEOUT_S 86400L
#define BLOB_TIMEOUT_FACTOR 120L
#define LOW_SPEED_BYTES 1024L

/* Caps on what is held in memory or read only to be thrown away. A
 * registry answers /v2/ with "{}", a token with a few KB of JSON, an
 * error with a short JSON document. */
#define PING_BODY_MAX (64 * 1024)
#define TOKEN_BODY_MAX (1024 * 1024)
#define ERROR_BODY_MAX (1024 * 1024)

/* What one HTTP exchange produced: headers of the final response. */
struct response {
  long status;
  char content_type[256];
  char digest[MK_HEADER_DIGEST_MAX];
  char www_auth[2048];
  char url[2048];                   /* where the final response came from */
  char curl_error[CURL_ERROR_SIZE]; /* libcurl's detail on a failure */
};

struct transfer {
  struct response *resp;
  size_t (*body)(struct transfer *t, const char *buf, size_t len);
  struct mk_buf *buf;
  mk_blob_sink sink;
  void *sink_data;
  uint64_t *received;
  uint64_t from;       /* resume offset we asked for */
  uint64_t skip;       /* bytes to drop when a resume was answered with 200 */
  uint64_t body_bytes; /* of the current response */
  size_t body_max;     /* cap on a 200/206 body; 0: the sink caps it */
  long timeout;        /* seconds for the whole request */
  int resumable;       /* a blob: a timeout is retried from where it was */
  int content;         /* the current response is 200/206: its body is data */
  int too_large;       /* the body went over its cap */
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
    t->body_bytes = 0;
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

/* Every body is capped, the bodies of error and redirect responses too
 * (those are only read to be thrown away): a registry that streams for
 * ever must not hold us, nor fill memory. */
static size_t on_body(char *p, size_t size, size_t nitems, void *data)
{
  struct transfer *t = data;
  size_t n = size * nitems;
  size_t cap = t->content ? t->body_max : ERROR_BODY_MAX;

  t->body_bytes += n;
  if (cap && t->body_bytes > cap) {
    t->too_large = 1;
    return 0;
  }
  if (!t->content)
    return n;
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
   * them on a redirect to another host or port (CURLOPT_UNRESTRICTED_AUTH
   * is never set), so blob storage never sees our credentials. And a 401
   * from a host a redirect led to is never answered (challenge_is_ours). */
  if (r->token) {
    c->easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
    c->easy_setopt(h, CURLOPT_XOAUTH2_BEARER, r->token);
  } else if (r->basic && r->credentials) {
    c->easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    c->easy_setopt(h, CURLOPT_USERPWD, r->credentials);
  }
}

static int is_https(const struct mk_registry *r)
{
  return strcmp(r->scheme, "https") == 0;
}

/* Connect, stall and total deadlines (see DEFAULT_TIMEOUT_S). */
static void setup_deadlines(struct mk_registry *r, CURL *h,
                            const struct transfer *t)
{
  const struct mk_curl *c = r->curl;

  c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, r->timeout);
  c->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
  c->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, r->timeout);
  c->easy_setopt(h, CURLOPT_TIMEOUT, t->timeout);
}

static CURL *new_handle(struct mk_registry *r, const char *url,
                        struct curl_slist *headers, struct transfer *t)
{
  const struct mk_curl *c = r->curl;
  /* Once a registry speaks HTTPS, nothing of the pull leaves HTTPS: not a
   * redirect of a manifest or blob, not a token request. A plain-HTTP
   * registry may send us up to HTTPS. */
  const char *protocols = is_https(r) ? "https" : "http,https";
  CURL *h = c->easy_init();

  if (!h)
    return NULL;
  c->easy_setopt(h, CURLOPT_URL, url);
  c->easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
  c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  c->easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols);
  c->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  c->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  c->easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  c->easy_setopt(h, CURLOPT_ERRORBUFFER, t->resp->curl_error);
  setup_deadlines(r, h, t);
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
  t->too_large = 0;
  rc = c->easy_perform(h);
  c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t->resp->status);
  char *final_url = NULL;
  c->easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &final_url);
  snprintf(t->resp->url, sizeof(t->resp->url), "%s",
           final_url ? final_url : url);
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

/* Whether a failure may pass on a retry. A timeout is retried only for a
 * blob, which resumes where it stopped; a ping, token or manifest that
 * ran out its deadline would only run it out again. */
static int transient(CURLcode rc, long status, int resumable)
{
  if (rc == CURLE_OK)
    return status >= 500 || status == 408;
  switch (rc) {
  case CURLE_OPERATION_TIMEDOUT: return resumable;
  case CURLE_COULDNT_CONNECT:
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

/* The scheme and the authority (host[:port], without user info) of url;
 * "" for a part that is missing or too long to compare. */
static void url_origin(const char *url, char scheme[8], char host[256])
{
  const char *sep = strstr(url, "://");
  const char *start = sep ? sep + 3 : url;
  size_t n = strcspn(start, "/?#");
  const char *at = memrchr(start, '@', n);

  if (at) {
    n -= (size_t)(at + 1 - start);
    start = at + 1;
  }
  scheme[0] = host[0] = '\0';
  if (sep && sep - url < 8)
    snprintf(scheme, 8, "%.*s", (int)(sep - url), url);
  if (n < 256)
    snprintf(host, 256, "%.*s", (int)n, start);
}

static int http_error(struct mk_registry *r, const char *what, CURLcode rc,
                      const struct transfer *t, mk_error_t *err)
{
  const struct response *resp = t->resp;
  const char *detail =
      resp->curl_error[0] ? resp->curl_error : r->curl->easy_strerror(rc);
  long status = resp->status;

  if (rc == CURLE_WRITE_ERROR && t->too_large)
    return mk_error_set(err, EFBIG,
                        "%s from %s: the answer is larger than %zu bytes", what,
                        r->host, t->content ? t->body_max : ERROR_BODY_MAX);
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return mk_error_set(err, ETIMEDOUT,
                        "%s from %s: timed out: %s (%s=%ld sets the deadline "
                        "in seconds)",
                        what, r->host, detail, MK_REGISTRY_TIMEOUT_ENV,
                        r->timeout);
  if (rc == CURLE_UNSUPPORTED_PROTOCOL && is_https(r))
    return mk_error_set(err, EPROTO,
                        "%s from %s: refusing to leave HTTPS for `%s` (a "
                        "redirect may not downgrade the connection): %s",
                        what, r->host, resp->url, detail);
  if (rc != CURLE_OK)
    return mk_error_set(err, EIO, "%s from %s: %s", what, r->host, detail);
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

/* Where a token request may go, and whether it may carry our Basic
 * credentials. The realm is whatever URL the registry names, on any host
 * (Docker Hub's is auth.docker.io), so:
 * - a registry spoken to over HTTPS must name an https:// realm: TLS then
 *   ties the credentials to the host named, and nothing is downgraded;
 * - an http:// realm gets the credentials only when the registry itself
 *   is plain HTTP (loopback or insecure-registries: the user chose to send
 *   them in the clear to that host) and the realm is on that same host
 *   name, any port. Elsewhere they would cross the network in the clear
 *   to a third host (containerd CVE-2020-15157's class): refused. Without
 *   credentials, nothing secret is sent, and any plain-HTTP realm of a
 *   plain-HTTP registry may be asked for an anonymous token. */
static int check_realm(const struct mk_registry *r, mk_error_t *err)
{
  char scheme[8], host[256], realm_name[256], registry_name[256];

  url_origin(r->realm, scheme, host);
  if (!host[0] ||
      (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0))
    return mk_error_set(err, EPROTO,
                        "%s: token realm `%s` is not an http(s) URL", r->host,
                        r->realm);
  if (strcasecmp(scheme, "https") == 0)
    return 0;
  if (is_https(r))
    return mk_error_set(err, EPROTO,
                        "%s: refusing token realm `%s`: plain HTTP, but the "
                        "registry speaks HTTPS",
                        r->host, r->realm);
  if (!r->credentials)
    return 0;
  mk_registry_host_name(host, realm_name, sizeof(realm_name));
  mk_registry_host_name(r->host, registry_name, sizeof(registry_name));
  if (strcasecmp(realm_name, registry_name) == 0)
    return 0;
  return mk_error_set(err, EPERM,
                      "%s: refusing to send its credentials to token realm "
                      "`%s`: plain HTTP to another host (only an https:// "
                      "realm, or one on the registry's own host, gets them)",
                      r->host, r->realm);
}

static int token_from_json(struct mk_registry *r, const struct mk_buf *body,
                           mk_error_t *err)
{
  json_t *doc = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
  const char *tok = json_string_value(json_object_get(doc, "token"));
  int result = -1;

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
  return result;
}

/* The Bearer dance: GET realm?service=...&scope=... (with Basic
 * credentials when we have them) and read "token" or "access_token". */
static int fetch_token(struct mk_registry *r, const char *scope,
                       mk_error_t *err)
{
  const struct mk_curl *c = r->curl;
  struct mk_buf body = {.max = TOKEN_BODY_MAX};
  struct response resp = {0};
  struct transfer t = {.resp = &resp,
                       .body = body_to_buf,
                       .buf = &body,
                       .body_max = TOKEN_BODY_MAX,
                       .timeout = r->timeout};
  struct mk_strv url = {0};
  char what[1100];
  CURLcode rc;
  int result = -1;

  if (check_realm(r, err) < 0)
    return -1;
  char *esc_service = c->easy_escape(NULL, r->service, 0);
  char *esc_scope = c->easy_escape(NULL, scope, 0);
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
  snprintf(what, sizeof(what), "token (realm %s)", r->realm);
  if (rc != CURLE_OK || resp.status != 200)
    http_error(r, what, rc, &t, err);
  else
    result = token_from_json(r, &body, err);
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

/* A 401 is answered only when the registry itself sent it. A request may
 * have been redirected, and a challenge from wherever it led must get
 * neither the registry's credentials nor a token request made with them
 * (containerd CVE-2020-15157): that host could name any realm. */
static int challenge_is_ours(struct mk_registry *r, const struct response *resp,
                             const char *what, mk_error_t *err)
{
  char scheme[8], host[256];

  url_origin(resp->url, scheme, host);
  if (strcasecmp(scheme, r->scheme) == 0 && strcasecmp(host, r->host) == 0)
    return 0;
  return mk_error_set(err, EPERM,
                      "%s from %s: redirected to %s://%s, which asks for "
                      "credentials (HTTP 401): mocker authenticates only to "
                      "the registry it pulls from, never to a host it is "
                      "redirected to",
                      what, r->host, scheme, host);
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
      if (challenge_is_ours(r, t->resp, what, err) < 0 ||
          answer_challenge(r, t->resp->www_auth, err) < 0)
        return -1;
      authed = 1;
      attempt--;
      continue;
    }
    if (!transient(rc, st, t->resumable) || attempt + 1 == MAX_ATTEMPTS)
      return http_error(r, what, rc, t, err);
    backoff(attempt);
  }
  return -1;
}

/* $MOCKER_REGISTRY_TIMEOUT: whole seconds, 1 to MAX_TIMEOUT_S. */
static int read_timeout(long *out, mk_error_t *err)
{
  const char *env = getenv(MK_REGISTRY_TIMEOUT_ENV);
  char *end;
  long v;

  *out = DEFAULT_TIMEOUT_S;
  if (!env || !*env)
    return 0;
  errno = 0;
  v = strtol(env, &end, 10);
  if (!isdigit((unsigned char)env[0]) || errno || *end || v < 1 ||
      v > MAX_TIMEOUT_S)
    return mk_error_set(err, EINVAL,
                        "invalid %s `%s`: want whole seconds from 1 to %ld",
                        MK_REGISTRY_TIMEOUT_ENV, env, MAX_TIMEOUT_S);
  *out = v;
  return 0;
}

int mk_registry_open(struct mk_registry *r, const char *host, const char *repo,
                     mk_error_t *err)
{
  memset(r, 0, sizeof(*r));
  if (read_timeout(&r->timeout, err) < 0 || !(r->curl = mk_curl_load(err)))
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

static struct transfer ping_transfer(struct mk_registry *r,
                                     struct response *resp)
{
  return (struct transfer){.resp = resp,
                           .body = body_discard,
                           .body_max = PING_BODY_MAX,
                           .timeout = r->timeout};
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
    if (!transient(rc, t->resp->status, 0) || attempt + 1 == MAX_ATTEMPTS)
      return 0;
    backoff(attempt);
  }
}

/* Whether a failed HTTPS ping may mean the registry speaks only plain
 * HTTP. Not when it answered over TLS, however badly: a certificate that
 * does not verify, an answer too slow or too large, a redirect off HTTPS.
 * Plain HTTP would only be a way around those checks. */
static int https_unspoken(int rc)
{
  switch (rc) {
  case CURLE_OK:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_WRITE_ERROR:
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_TOO_MANY_REDIRECTS: return 0;
  default: return 1;
  }
}

static int ping_error(struct mk_registry *r, int rc, const struct transfer *t,
                      mk_error_t *err)
{
  if (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_WRITE_ERROR ||
      rc == CURLE_UNSUPPORTED_PROTOCOL)
    return http_error(r, "ping (GET /v2/)", (CURLcode)rc, t, err);
  return mk_error_set(err, EIO, "cannot reach registry %s: %s", r->host,
                      t->resp->curl_error[0]
                          ? t->resp->curl_error
                          : r->curl->easy_strerror((CURLcode)rc));
}

int mk_registry_connect(struct mk_registry *r, mk_error_t *err)
{
  struct response resp = {0};
  struct transfer t = ping_transfer(r, &resp);
  int rc = ping(r, &t);

  /* HTTPS first; plain HTTP only for loopback and insecure-registries,
   * and only when HTTPS cannot be spoken at all. A registry that speaks
   * HTTPS always has its certificate checked. */
  if (rc != 0 && r->insecure && https_unspoken(rc)) {
    snprintf(r->scheme, sizeof(r->scheme), "http");
    rc = ping(r, &t);
  }
  if (rc != 0)
    return ping_error(r, rc, &t, err);
  if (resp.status == 401 && resp.www_auth[0])
    return challenge_is_ours(r, &resp, "ping", err) < 0
               ? -1
               : answer_challenge(r, resp.www_auth, err);
  if (resp.status != 200)
    return http_error(r, "ping", CURLE_OK, &t, err);
  return 0;
}

int mk_registry_check_login(struct mk_registry *r, mk_error_t *err)
{
  struct response resp = {0};
  struct transfer t = ping_transfer(r, &resp);
  int rc;

  if (mk_registry_connect(r, err) < 0)
    return err->err == EACCES
               ? mk_error_set(err, EACCES,
                              "login to %s failed: unauthorized: incorrect "
                              "username or password",
                              r->host)
               : -1;
  if ((rc = ping(r, &t)) != 0)
    return ping_error(r, rc, &t, err);
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
                             char digest[MK_HEADER_DIGEST_MAX], mk_error_t *err)
{
  struct response resp = {0};
  struct transfer t = {.resp = &resp,
                       .body = body_to_buf,
                       .buf = body,
                       .body_max = MK_MANIFEST_MAX,
                       .timeout = r->timeout};
  char path[1024], what[600];

  body->max = MK_MANIFEST_MAX;
  snprintf(path, sizeof(path), "/v2/%s/manifests/%s", r->repo, reference);
  snprintf(what, sizeof(what), "manifest for %s%c%s", r->repo,
           strchr(reference, ':') ? '@' : ':', reference);
  if (get(r, what, path, MANIFEST_TYPES, &t, NULL, err) < 0) {
    if (t.too_large && t.content)
      mk_error_set(err, EFBIG, "manifest `%s` from %s is larger than %d bytes",
                   reference, r->host, MK_MANIFEST_MAX);
    return -1;
  }
  snprintf(content_type, 256, "%s", resp.content_type);
  snprintf(digest, MK_HEADER_DIGEST_MAX, "%s", resp.digest);
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
                       .received = received,
                       .timeout = r->timeout * BLOB_TIMEOUT_FACTOR,
                       .resumable = 1};
  char path[1024];

  snprintf(path, sizeof(path), "/v2/%s/blobs/%s", r->repo, digest);
  return get(r, "blob", path, NULL, &t, received, err);
}
