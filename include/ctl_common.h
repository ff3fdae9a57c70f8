/* ctl_common.h - what every moderatorctl command file shares: opening the database and the
 * name it acts under in the audit trail. */
#ifndef MODERATORD_CTL_COMMON_H
#define MODERATORD_CTL_COMMON_H

#include <stddef.h>

#include "store.h"

/* Opens the database at db; prints the reason and returns -1 when it cannot. */
int ctl_open_db(const char *db, store **st);
/* "moderatorctl:$USER": who acted, for the audit trail. */
void ctl_actor(char *out, size_t len);

#endif
