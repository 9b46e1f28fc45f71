#include "CTollgateSQLite.h"
#include <sqlite3.h>

int tollgate_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
