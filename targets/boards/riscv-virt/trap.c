/* trap.c - RISC-V machine-mode trap handler: report the exception and exit with MF_EXIT_RISCV_TRAP + mcause. */
#include <stdint.h>

#include "mf_board.h"

void mf_riscv_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval) __attribute__((noreturn));

void mf_riscv_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    static const char *const names[16] = {
        "instruction address misaligned", "instruction access fault", "illegal instruction", "breakpoint",
        "load address misaligned", "load access fault", "store address misaligned", "store access fault",
        "ecall from U-mode", "ecall from S-mode", "reserved", "ecall from M-mode",
        "instruction page fault", "load page fault", "reserved", "store page fault",
    };
    if (mcause & 0x80000000u) {
        mf_fault_exit(MF_EXIT_RISCV_TRAP + 16, "unexpected interrupt", mepc, mcause);
    }
    mf_fault_exit(MF_EXIT_RISCV_TRAP + (int)(mcause & 15u), names[mcause & 15u], mepc, mtval);
}
