// Build-only test: the public headers compile from C++ and link with C linkage.
#include <deepc.h>

int main() {
    const char *name = dc_type_name(DC_TYPE_Q4_K);
    return name != nullptr ? 0 : 1;
}
