/* start.S - reset, trap entry and the semihosting trap for qemu-system-riscv32 -M virt -bios none (one hart,
 * machine mode). Built with -march=rv32imc: CSR instructions are enabled locally with .option arch. */
    .section .text.init, "ax"
    .global _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __stack_top
    .option push
    .option arch, +zicsr
    la t0, mf_trap_entry
    csrw mtvec, t0
    .option pop
    call mf_cstart

/* Any trap is a fault here (no interrupts are enabled): hand mcause, mepc, mtval to C, which exits. */
    .balign 4
mf_trap_entry:
    .option push
    .option arch, +zicsr
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    .option pop
    la sp, __stack_top
    call mf_riscv_trap

/* Semihosting: the trap is the uncompressed sequence slli x0,x0,0x1f; ebreak; srai x0,x0,7, which must not
 * straddle a page: aligned to 16 it cannot. a0 = operation, a1 = parameter block, result in a0. */
    .section .text.mf_semihost, "ax"
    .balign 16
    .global mf_semihost_call
mf_semihost_call:
    .option push
    .option norvc
    slli x0, x0, 0x1f
    ebreak
    srai x0, x0, 7
    .option pop
    ret
