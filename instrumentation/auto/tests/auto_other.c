/* auto_other.c: a second source file, for the file: patterns. */
#include "auto_workload.h"

__attribute__((noinline)) int other_square(int x)
{
    return x * x;
}
