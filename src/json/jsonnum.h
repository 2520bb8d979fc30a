/*
 * jsonnum: JSON numbers read exactly, for both readers of dusk.json
 * (jsondoc and jsonrec).
 *
 * simdjson 3.0's On-Demand number parser (the version Debian 12 ships)
 * gives wrong doubles for numbers of more than 19 significant digits:
 * 0.92203764737095516160 reads as 0.184.  So numbers are read here: the
 * JSON grammar checked by hand, integers accumulated exactly, and every
 * other number converted by strtod in the C locale, which glibc rounds
 * correctly.
 */
#ifndef DUSK_JSONNUM_H
#define DUSK_JSONNUM_H

#include "jsondoc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads the JSON number at 's' (the text must go on after it: a JSON
 * number never ends a padded text) into '*out': an integer that fits
 * int64 as JSONDOC_INT, any other number as JSONDOC_FLOAT; '*end' is
 * where it stops.  -1 when 's' starts no JSON number, or the number is
 * beyond a double's range. */
int jsonnum_read(const char *s, const char **end, jsondoc_val *out);

#ifdef __cplusplus
}
#endif

#endif
