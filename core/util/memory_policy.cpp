#include "core/util/memory_policy.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace qs {

void keepFreedMemoryForReuse()
{
    const char* keepDefault = std::getenv("QS_MALLOC_DEFAULT");
    if (keepDefault && *keepDefault && std::strcmp(keepDefault, "0") != 0)
        return;
#if defined(__GLIBC__)
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, -1); // -1: the largest value, never trim
#endif
}

} // namespace qs
