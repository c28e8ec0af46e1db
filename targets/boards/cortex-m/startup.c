/* startup.c - Cortex-M (ARMv7-M / ARMv8-M mainline) vector table, reset and fault handlers for the QEMU
 * boards (mps2-an385/an386/an500/an505, mps3-an547). Every fault ends the run with a distinct exit code
 * (mf_board.h) and a "microforge-fault:" line on the semihosting console: an unhandled fault would hang. */
#include <stdint.h>

#include "mf_board.h"

typedef void (*mf_vector)(void);

extern uint32_t __stack_top[];
void mf_cstart(void) __attribute__((noreturn));
void mf_reset_handler(void) __attribute__((naked, noreturn));
void mf_arm_fault(uint32_t code, uint32_t *frame) __attribute__((noreturn, used));

/* The FPU (and MVE on M55) is off at reset: enable CP10/CP11 in CPACR before any C code runs, since GCC
 * may use FP or vector registers anywhere, even in the .data copy loop. */
void mf_reset_handler(void)
{
    __asm__ volatile(
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
        "movw r0, #0xED88\n"
        "movt r0, #0xE000\n" /* SCB->CPACR */
        "ldr r1, [r0]\n"
        "orr r1, r1, #(0xF << 20)\n"
        "str r1, [r0]\n"
        "dsb\n"
        "isb\n"
#endif
        "b mf_cstart\n");
}

/* Each stub passes its code and the exception frame (we only ever run on MSP) to mf_arm_fault. */
#define MF_FAULT_STUB(fn, code)                                                                            \
    void fn(void) __attribute__((naked));                                                                  \
    void fn(void)                                                                                          \
    {                                                                                                      \
        __asm__ volatile("movs r0, #" #code "\n"                                                           \
                         "mov r1, sp\n"                                                                    \
                         "b mf_arm_fault\n");                                                              \
    }

MF_FAULT_STUB(mf_nmi_handler, 0)
MF_FAULT_STUB(mf_hardfault_handler, 1)
MF_FAULT_STUB(mf_memmanage_handler, 2)
MF_FAULT_STUB(mf_busfault_handler, 3)
MF_FAULT_STUB(mf_usagefault_handler, 4)
MF_FAULT_STUB(mf_securefault_handler, 5)
MF_FAULT_STUB(mf_default_handler, 6)

void mf_arm_fault(uint32_t code, uint32_t *frame)
{
    static const char *const names[] = {"NMI", "HardFault", "MemManage", "BusFault", "UsageFault", "SecureFault",
                                        "unexpected exception"};
    const uint32_t cfsr = *(volatile uint32_t *)0xE000ED28u; /* SCB->CFSR: which fault, and why */
    mf_fault_exit(MF_EXIT_ARM_FAULT + (int)code, names[code < 7 ? code : 6], frame[6], cfsr);
}

__attribute__((section(".vectors"), used)) const mf_vector mf_vectors[16 + 48] = {
    [0] = (mf_vector)(uintptr_t)__stack_top,
    [1] = mf_reset_handler,
    [2] = mf_nmi_handler,
    [3] = mf_hardfault_handler,
    [4] = mf_memmanage_handler,
    [5] = mf_busfault_handler,
    [6] = mf_usagefault_handler,
    [7] = mf_securefault_handler,
    [11 ... 63] = mf_default_handler, /* SVC, DebugMon, PendSV, SysTick, IRQs: none is expected */
};
