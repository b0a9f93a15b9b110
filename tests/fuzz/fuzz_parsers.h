/* The parsers' fuzz target (fuzz_parsers.c), for libFuzzer or the seeded driver. */
#ifndef TCPTOP_FUZZ_PARSERS_H
#define TCPTOP_FUZZ_PARSERS_H

#include <stddef.h>
#include <stdint.h>

/* Duration, count, port, pid list, live filter, command line: data[0] % 6 picks one. */
#define FUZZ_PARSERS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
