/* Build-only test: the public headers compile as strict C11 (-pedantic -Werror). */
#include <deepc.h>

int main(void) {
    dc_context_params p = dc_context_default_params();
    return p.mem_size > 0 ? 0 : 1;
}
