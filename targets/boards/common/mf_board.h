/* mf_board.h - what a microforge QEMU board provides: semihosting file I/O, exit, and the exit codes
 * qemu.py decodes. Shared by every board folder (Cortex-M and RISC-V). */
#ifndef MF_BOARD_H
#define MF_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes (SYS_EXIT_EXTENDED, QEMU exits with them). Keep in sync with validate/qemu.py. */
#define MF_EXIT_OK 0
#define MF_EXIT_IO_OPEN 2      /* a semihosting file could not be opened */
#define MF_EXIT_IO_SHORT 3     /* a partial sample on input, or a failed write */
#define MF_EXIT_ARM_FAULT 100  /* + 0 NMI, 1 HardFault, 2 MemManage, 3 BusFault, 4 UsageFault, 5 SecureFault, 6 other */
#define MF_EXIT_RISCV_TRAP 110 /* + mcause for exceptions 0..15; 126 = unexpected interrupt */

/* semihosting open modes (ARM semihosting spec, SYS_OPEN) */
#define MF_SH_MODE_RB 1
#define MF_SH_MODE_WB 5

/** One semihosting call: op in r0/a0, pointer to the parameter block in r1/a1; returns r0/a0. */
long mf_semihost_call(long op, void *arg);

/** Opens a host file (relative to QEMU's working directory). Returns a handle, or -1. */
long mf_sh_open(const char *path, int mode);
/** Reads exactly len bytes. Returns the number of bytes NOT read (0 = all read, len = end of file). */
size_t mf_sh_read(long handle, void *buf, size_t len);
/** Writes len bytes. Returns the number of bytes NOT written. */
size_t mf_sh_write(long handle, const void *buf, size_t len);
void mf_sh_close(long handle);
/** Writes a NUL-terminated string to the semihosting console. */
void mf_sh_puts(const char *s);
/** Ends the QEMU run with this exit code (SYS_EXIT_EXTENDED). */
void mf_sh_exit(int code) __attribute__((noreturn));
/** Writes "microforge-fault: <what> pc=0x........ info=0x........" and exits with code. */
void mf_fault_exit(int code, const char *what, uint32_t pc, uint32_t info) __attribute__((noreturn));

#endif /* MF_BOARD_H */
