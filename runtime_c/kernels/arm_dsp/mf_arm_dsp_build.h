/**
 * @file mf_arm_dsp_build.h
 * @brief How the arm_dsp kernels with inline assembly are built, whatever the project's flags. Include it first.
 *
 * Their assembly needs 12-14 registers: -Og and -fno-omit-frame-pointer debug builds would take the frame pointer,
 * so these files are built optimised without one (GCC's optimize pragma). At -O0 (no __OPTIMIZE__, recorded as
 * MF_DSP_OPTIMIZED_BUILD before the pragma redefines it) only their reference loop is compiled.
 */
#ifndef MF_ARM_DSP_BUILD_H
#define MF_ARM_DSP_BUILD_H

#if defined(__OPTIMIZE__)
#define MF_DSP_OPTIMIZED_BUILD 1
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O2", "omit-frame-pointer")
#endif

#endif /* MF_ARM_DSP_BUILD_H */
