// The functions are inline in include/CTollgateThreads.h; SwiftPM needs one source file.
#include "CTollgateThreads.h"
