/* static.h - the review page's files: GET /moderate and /moderate/NAME serve WEB_DIR/moderate/NAME
 * without a key (the page asks for one itself), with their content type, a strict
 * Content-Security-Policy, and no way out of that directory (flat names only, no symlinks). */
#ifndef MODERATORD_STATIC_H
#define MODERATORD_STATIC_H

#include "api.h"

#define STATIC_DEFAULT_WEB "web" /* relative to the working directory */

/* Sets the web directory (copied). Call once at start-up, before serving. Returns 0, or -1 with
 * err when WEB_DIR/moderate/index.html cannot be read (the daemon still starts; the page 404s). */
int static_set_root(const char *web_dir, mod_error *err);

/* GET /moderate, /moderate/ (index.html) and /moderate/{*} (public). */
api_status static_moderate(api_ctx *ctx, api_request *req, api_reply *rep);

#endif
