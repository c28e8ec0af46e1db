/* insn_count.c - QEMU TCG plugin (API v1, QEMU 7.2): exact guest instruction counts for microforge.
 *
 * Built at run time with the host gcc (validate/qemu.py). Debian ships no qemu-plugin.h, so the handful of
 * API v1 declarations it needs are written out below; they match include/qemu/qemu-plugin.h of QEMU 7.x.
 *
 * Arguments (-plugin insn_count.so,cfg=FILE,out=FILE):
 *   cfg: text file, one directive a line, addresses in hex:
 *          marker ADDR   log "hit ADDR COUNT" every time the instruction at ADDR executes, where COUNT is
 *                        the number of guest instructions executed before it
 *          open ADDR     the function histogram starts counting when the TB starting at ADDR executes
 *          close ADDR    ... and stops when the TB starting at ADDR executes (only the first open..close
 *                        window is histogrammed: one inference)
 *   out: the log, written at exit: "hit" lines in execution order, "tb VADDR NINSNS EXECS" for every TB that
 *        ran inside the window, and "total COUNT".
 *
 * Counting: every TB adds its instruction count to a global counter with an inline op when it starts (cheap,
 * no helper call). A marker at instruction k of an n-instruction TB therefore sees counter = before + n and
 * logs counter - (n - k): exact, because the marker only runs once the k instructions before it did. TBs end
 * at branches, semihosting traps and faults, so no TB stops part way through in the code we measure.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- QEMU plugin API v1 (subset) ---- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* opaque here: we read nothing from it */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* ---- state (single vCPU: Cortex-M and the riscv virt runs use one core) ---- */
enum { KIND_MARKER = 1, KIND_OPEN = 2, KIND_CLOSE = 4 };

typedef struct {
    uint64_t addr;
    int kind;
} Watch;

typedef struct {
    uint64_t vaddr;
    uint64_t n_insns;
    uint64_t execs; /* executions inside the window */
} TbRecord;

typedef struct {
    uint64_t addr;
    uint64_t back; /* instructions of the TB from this marker to the TB end */
} MarkerHit;

static uint64_t counter;
static Watch *watches;
static size_t n_watches;
static TbRecord **tbs;
static size_t n_tbs, cap_tbs;
static uint64_t *hits; /* pairs: addr, count */
static size_t n_hits, cap_hits;
static int window_state; /* 0 = not yet opened, 1 = open, 2 = closed for good */
static char *out_path;

static int watch_kind(uint64_t addr)
{
    int kind = 0;
    for (size_t i = 0; i < n_watches; ++i) {
        if (watches[i].addr == addr) {
            kind |= watches[i].kind;
        }
    }
    return kind;
}

static void on_marker(unsigned int vcpu, void *udata)
{
    const MarkerHit *m = udata;
    (void)vcpu;
    if (n_hits + 2 > cap_hits) {
        cap_hits = cap_hits ? 2 * cap_hits : 4096;
        hits = realloc(hits, cap_hits * sizeof *hits);
        if (hits == NULL) {
            abort();
        }
    }
    hits[n_hits++] = m->addr;
    hits[n_hits++] = counter - m->back;
}

static void on_tb(unsigned int vcpu, void *udata)
{
    TbRecord *t = udata;
    (void)vcpu;
    int kind = watch_kind(t->vaddr);
    if ((kind & KIND_OPEN) && window_state == 0) {
        window_state = 1;
    }
    if ((kind & KIND_CLOSE) && window_state == 1) {
        window_state = 2;
    }
    if (window_state == 1) {
        t->execs++;
    }
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &counter, n);
    if (window_state != 2) {
        /* the histogram needs a helper call per TB: only until the window has closed */
        TbRecord *t = calloc(1, sizeof *t);
        if (t == NULL) {
            abort();
        }
        t->vaddr = qemu_plugin_tb_vaddr(tb);
        t->n_insns = n;
        if (n_tbs == cap_tbs) {
            cap_tbs = cap_tbs ? 2 * cap_tbs : 1024;
            tbs = realloc(tbs, cap_tbs * sizeof *tbs);
            if (tbs == NULL) {
                abort();
            }
        }
        tbs[n_tbs++] = t;
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb, QEMU_PLUGIN_CB_NO_REGS, t);
    }
    for (size_t i = 0; i < n; ++i) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t addr = qemu_plugin_insn_vaddr(insn);
        if (watch_kind(addr) & KIND_MARKER) {
            MarkerHit *m = malloc(sizeof *m); /* lives as long as the TB may: never freed */
            if (m == NULL) {
                abort();
            }
            m->addr = addr;
            m->back = n - i;
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, m);
        }
    }
}

static void on_plugin_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    FILE *f = out_path ? fopen(out_path, "w") : NULL;
    if (f == NULL) {
        qemu_plugin_outs("insn_count: cannot write the output file\n");
        return;
    }
    for (size_t i = 0; i < n_hits; i += 2) {
        fprintf(f, "hit %" PRIx64 " %" PRIu64 "\n", hits[i], hits[i + 1]);
    }
    for (size_t i = 0; i < n_tbs; ++i) {
        if (tbs[i]->execs) {
            fprintf(f, "tb %" PRIx64 " %" PRIu64 " %" PRIu64 "\n", tbs[i]->vaddr, tbs[i]->n_insns, tbs[i]->execs);
        }
    }
    fprintf(f, "total %" PRIu64 "\n", counter);
    fclose(f);
}

static int read_config(const char *path)
{
    FILE *f = fopen(path, "r");
    char kind[16];
    uint64_t addr;
    if (f == NULL) {
        return -1;
    }
    while (fscanf(f, "%15s %" SCNx64, kind, &addr) == 2) {
        watches = realloc(watches, (n_watches + 1) * sizeof *watches);
        if (watches == NULL) {
            abort();
        }
        watches[n_watches].addr = addr;
        watches[n_watches].kind = strcmp(kind, "open") == 0 ? KIND_OPEN : strcmp(kind, "close") == 0 ? KIND_CLOSE : KIND_MARKER;
        n_watches++;
    }
    fclose(f);
    return 0;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], "cfg=", 4) == 0) {
            if (read_config(argv[i] + 4) != 0) {
                qemu_plugin_outs("insn_count: cannot read the cfg file\n");
                return -1;
            }
        } else if (strncmp(argv[i], "out=", 4) == 0) {
            out_path = strdup(argv[i] + 4);
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
