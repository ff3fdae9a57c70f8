/* static.c - serves the review page's static files from WEB_DIR/moderate: flat file names only
 * (no '/', no leading '.'), known extensions only, regular files opened without following
 * symlinks, each reply with its content type and security headers. No JSON, no store. */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_MAX_FILE (4u * 1024u * 1024u)
#define STATIC_MAX_NAME 100

static char static_root[PATH_MAX] = STATIC_DEFAULT_WEB;

/* The page's scripts and styles come from this origin only; nothing inline, no frames, no
 * plug-ins; API calls go back to the same origin. A comment's text can never run as code. */
static const char static_csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

static const struct {
    const char *ext, *type;
} static_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

int static_set_root(const char *web_dir, mod_error *err)
{
    snprintf(static_root, sizeof static_root, "%s", web_dir && *web_dir ? web_dir : STATIC_DEFAULT_WEB);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/moderate/index.html", static_root);
    if (access(path, R_OK) != 0)
        return err_set(err, ERR_NOT_FOUND, "%s: %s", path, strerror(errno));
    return 0;
}

/* The content type for a safe file name, or NULL when the name may not be served. */
static const char *static_type(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > STATIC_MAX_NAME || name[0] == '.')
        return NULL;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return NULL;
    }
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof static_types / sizeof static_types[0]; i++)
        if (strcmp(dot, static_types[i].ext) == 0)
            return static_types[i].type;
    return NULL;
}

/* Reads a whole regular file into a malloc'd buffer. Returns 0, or an errno value. */
static int static_read(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > STATIC_MAX_FILE) {
        close(fd);
        return ENOENT;
    }
    size_t size = (size_t)sb.st_size, got = 0;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return ENOMEM;
    }
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    *out = buf;
    *len = got;
    return 0;
}

api_status static_moderate(api_ctx *ctx, api_request *req, api_reply *rep)
{
    (void)ctx;
    const char *name = req->n_params > 0 ? req->params[0] : "";
    if (!*name)
        name = "index.html";
    const char *type = static_type(name);
    if (!type) {
        api_error(rep, ERR_NOT_FOUND, "no such file");
        return API_DONE;
    }
    char path[PATH_MAX + STATIC_MAX_NAME + 16];
    snprintf(path, sizeof path, "%s/moderate/%s", static_root, name);
    char *body = NULL;
    size_t len = 0;
    int e = static_read(path, &body, &len);
    if (e != 0) {
        api_error(rep, e == ENOMEM ? ERR_INTERNAL : ERR_NOT_FOUND, "%s",
                  e == ENOMEM ? "out of memory" : "no such file");
        return API_DONE;
    }
    free(rep->body);
    rep->status = 200;
    rep->content_type = type;
    rep->body = body;
    rep->body_len = len;
    api_reply_header(rep, "Content-Security-Policy", static_csp);
    api_reply_header(rep, "X-Content-Type-Options", "nosniff");
    api_reply_header(rep, "X-Frame-Options", "DENY");
    api_reply_header(rep, "Referrer-Policy", "no-referrer");
    api_reply_header(rep, "Cache-Control", "no-cache");
    return API_DONE;
}
