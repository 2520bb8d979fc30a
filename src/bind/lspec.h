/*
 * lspec: where C finds things in the lists Lua builds for it, the same
 * numbers and names as lua/dusk/spec.lua, which builds them (change one,
 * change both).
 */
#ifndef DUSK_LSPEC_H
#define DUSK_LSPEC_H

/* A task spec (a layer's payload): its kind at LSPEC_KIND. */
#define LSPEC_KIND 1

/* {"call", fn, args, nargs, nout}: Delayed's call, run directly by lrun.c
 * when its arguments are plain (exec.h's exec_spec.direct). */
#define LSPEC_CALL "call"
enum { LSPEC_CALL_FN = 2, LSPEC_CALL_ARGS, LSPEC_CALL_NARGS, LSPEC_CALL_NOUT };

/* {"array", what, ...}: an Array's task (spec.array); "map" holds the
 * user's function (map_blocks), the others only data. */
#define LSPEC_ARRAY "array"
#define LSPEC_ARRAY_MAP "map"
enum { LSPEC_ARRAY_WHAT = 2 };

/* {k}: the placeholder of a task's k-th input among a spec's values
 * (delayed.lua's "dusk.dep"). */
enum { LSPEC_DEP_INPUT = 1 };

/* {kind, program}: a step of a pipeline run in C (lpure.c). */
enum { LSPEC_STAGE_KIND = 1, LSPEC_STAGE_PROGRAM };

/* The keyed partial of frequencies (spec.keyed()): the fields that
 * dusk.json's each_record counts into (ljsonlines.c). */
#define LSPEC_KEYED_KEYS "keys" /* keys in first-occurrence order */
#define LSPEC_KEYED_VALS "vals" /* key -> count */
#define LSPEC_KEYED_ORIG "orig" /* key -> the key as first seen */

#endif
