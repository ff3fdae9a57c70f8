/* ctl_common.c - what every moderatorctl command file shares. */
#include "ctl_common.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int ctl_open_db(const char *db, store **st)
{
    mod_error err = {0};
    if (store_open(db, 0, st, &err) != 0) {
        fprintf(stderr, "moderatorctl: %s: %s\n", db, err.message);
        return -1;
    }
    return 0;
}

void ctl_actor(char *out, size_t len)
{
    const char *user = getenv("USER");
    if (!user || !*user) {
        struct passwd *pw = getpwuid(getuid());
        user = pw && pw->pw_name ? pw->pw_name : NULL;
    }
    if (user)
        snprintf(out, len, "moderatorctl:%s", user);
    else
        snprintf(out, len, "moderatorctl:uid%u", (unsigned)getuid());
}
