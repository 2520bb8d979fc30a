/*
 * clones: ND_CLONES marks a hot loop to be compiled three times -- for
 * AVX-512 (x86-64-v4: F, BW, DQ, VL), AVX2 and the baseline -- with GCC's
 * function multiversioning, which picks one when the program loads from
 * the CPU's features.  Empty where the compiler has no target_clones,
 * and under ThreadSanitizer, whose run time is not yet up when the
 * dynamic loader calls the clones' resolvers (the program dies at start).
 */
#ifndef DUSK_CLONES_H
#define DUSK_CLONES_H

#if defined(__x86_64__) && defined(__has_attribute) && !defined(__SANITIZE_THREAD__)
#if __has_attribute(target_clones)
#define ND_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
#endif
#ifndef ND_CLONES
#define ND_CLONES
#endif

#endif
