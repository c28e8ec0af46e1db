/* semihost_call.c - the Arm semihosting trap (BKPT 0xAB on M-profile). */
#include "mf_board.h"

long mf_semihost_call(long op, void *arg)
{
    register long r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
