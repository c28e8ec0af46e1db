/* crt.c - C run-time start shared by every board: copy .data, zero .bss, run main, exit with its code.
 * Called by the architecture's reset code once the stack (and on Arm the FPU) are set up. */
#include <stdint.h>

#include "mf_board.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
int main(void);
void mf_cstart(void) __attribute__((noreturn));

void mf_cstart(void)
{
    volatile uint32_t *src = __data_load; /* volatile: keep GCC from turning these into libc calls */
    volatile uint32_t *dst = __data_start;
    while (dst < __data_end) {
        *dst++ = *src++;
    }
    for (dst = __bss_start; dst < __bss_end;) {
        *dst++ = 0;
    }
    mf_sh_exit(main());
}
