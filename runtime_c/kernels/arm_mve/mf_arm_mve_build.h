/**
 * @file mf_arm_mve_build.h
 * @brief How the arm_mve kernels with inline assembly are built, whatever the project's flags. Include it first.
 *
 * Their assembly needs most registers: -Og and -fno-omit-frame-pointer debug builds would take the frame pointer,
 * -O0 / -O1 keep too many values in registers; so these files are built without a frame pointer and at -O2 unless
 * the project optimises for size (GCC's optimize pragma; -Os keeps its own level).
 */
#ifndef MF_ARM_MVE_BUILD_H
#define MF_ARM_MVE_BUILD_H

#if defined(__GNUC__) && !defined(__clang__)
#if !defined(__OPTIMIZE_SIZE__)
#pragma GCC optimize("O2")
#endif
#pragma GCC optimize("omit-frame-pointer")
#endif

#endif /* MF_ARM_MVE_BUILD_H */
