/* semihost.c - file I/O and exit over semihosting (ARM semihosting spec, also used by QEMU for RISC-V).
 * The trap itself (mf_semihost_call) is per architecture: cortex-m/semihost_call.c, riscv-virt/start.S. */
#include <string.h>

#include "mf_board.h"

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_EXIT_EXTENDED = 0x20,
    ADP_STOPPED_APPLICATION_EXIT = 0x20026
};

long mf_sh_open(const char *path, int mode)
{
    uintptr_t block[3] = {(uintptr_t)path, (uintptr_t)mode, (uintptr_t)strlen(path)};
    return mf_semihost_call(SYS_OPEN, block);
}

size_t mf_sh_read(long handle, void *buf, size_t len)
{
    uintptr_t block[3] = {(uintptr_t)handle, (uintptr_t)buf, (uintptr_t)len};
    return (size_t)mf_semihost_call(SYS_READ, block);
}

size_t mf_sh_write(long handle, const void *buf, size_t len)
{
    uintptr_t block[3] = {(uintptr_t)handle, (uintptr_t)buf, (uintptr_t)len};
    return (size_t)mf_semihost_call(SYS_WRITE, block);
}

void mf_sh_close(long handle)
{
    uintptr_t block[1] = {(uintptr_t)handle};
    (void)mf_semihost_call(SYS_CLOSE, block);
}

void mf_sh_puts(const char *s)
{
    (void)mf_semihost_call(SYS_WRITE0, (void *)(uintptr_t)s);
}

void mf_sh_exit(int code)
{
    uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)code};
    (void)mf_semihost_call(SYS_EXIT_EXTENDED, block);
    for (;;) {
        /* not reached under QEMU */
    }
}

static char *put_hex(char *p, uint32_t v)
{
    int i;
    *p++ = '0';
    *p++ = 'x';
    for (i = 28; i >= 0; i -= 4) {
        *p++ = "0123456789abcdef"[(v >> i) & 0xfu];
    }
    return p;
}

void mf_fault_exit(int code, const char *what, uint32_t pc, uint32_t info)
{
    /* no stdio here: the fault may have come from a broken stack or heap */
    static char line[128];
    char *p = line;
    const char *prefix = "microforge-fault: ";
    while (*prefix) {
        *p++ = *prefix++;
    }
    while (*what && p < line + 64) {
        *p++ = *what++;
    }
    memcpy(p, " pc=", 4);
    p = put_hex(p + 4, pc);
    memcpy(p, " info=", 6);
    p = put_hex(p + 6, info);
    *p++ = '\n';
    *p = '\0';
    mf_sh_puts(line);
    mf_sh_exit(code);
}
