#ifndef TOLLGATE_COPENBLAS_SHIM_H
#define TOLLGATE_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
