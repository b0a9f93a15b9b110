/* A seeded, deterministic fuzzer for the parsers' target (fuzz_parsers.c), for make
 * check where libFuzzer is not at hand: fuzz_seeded [INPUTS [SEED]] mutates known-good
 * texts with a fixed pseudo-random sequence, so that a finding comes back on every run.
 * Each input has 10 s (a hang ends the run by SIGALRM). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz_parsers.h"

#define MAX_INPUT 512

/* Texts each parser takes, and pieces that make parsers work hard, per parser. */
static const char *const seeds[FUZZ_PARSERS][8] = {
	{ "1s", "250ms", "10ms", "1.5s", "2m", "1h", "0.001s", "18446744073709551615ns" },
	{ "1", "3", "100", "18446744073709551615", "0", "007", " 5", "5x" },
	{ "443", "0", "65535", "65536", "080", "-1", "1e3", "" },
	{ "1", "1,2,3", "4194304", "1,,2", ",", "99999999999", "1, 2", "0" },
	{ "nginx", "port:443", "pid:1234 tcp", "proc:ngi ::1", "127.0 LISTEN", "port:", "pid:x",
	  "a b  c" },
	{ "-b\n-N\n3", "-d\n250ms\n-p\n1,2", "--format\njsonl\n-l\n/tmp/x.jsonl", "-bn\n1s\n2",
	  "--sort=tx_rate\n-r", "--port\n443\n--comm\nnginx", "--help", "-V\n--hooks\ncompat" },
};
/* Longer than any buffer a parser keeps (a filter word, a comm, a message). */
#define LONG_WORD                                                                                  \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"  \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char *const pieces[] = { "0",
				      "9",
				      "99999999999999999999",
				      "-",
				      "+",
				      ".",
				      "..",
				      "e",
				      "ms",
				      "us",
				      "ns",
				      "s",
				      "m",
				      "h",
				      "d",
				      ",",
				      ":",
				      "=",
				      " ",
				      "\t",
				      "\n",
				      "--",
				      "-d",
				      "-N",
				      "-p",
				      "--interval=",
				      "--max-flows",
				      "--closed",
				      "--udp-timeout",
				      "port:",
				      "pid:",
				      "proc:",
				      "\xff",
				      "\xc3\xa9",
				      "\x1b[",
				      "%s%n",
				      "0x10",
				      "inf",
				      "nan",
				      "1e309",
				      "18446744073709551616",
				      LONG_WORD };

static uint64_t state;

/* xorshift64*: the same sequence for the same seed, on every host. */
static uint64_t next_random(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * UINT64_C(2685821657736338717);
}

static size_t below(size_t n)
{
	return (size_t)(next_random() % n);
}

static size_t mutate_once(uint8_t *buf, size_t len)
{
	const char *piece = pieces[below(sizeof(pieces) / sizeof(pieces[0]))];
	size_t at = 1 + below(len), plen = strlen(piece);

	switch (below(5)) {
	case 0: /* a random byte somewhere */
		if (len < MAX_INPUT) {
			memmove(buf + at + 1, buf + at, len - at);
			buf[at] = (uint8_t)next_random();
			return len + 1;
		}
		return len;
	case 1: /* a byte gone */
		if (at < len) {
			memmove(buf + at, buf + at + 1, len - at - 1);
			return len - 1;
		}
		return len;
	case 2: /* a byte changed */
		if (at < len)
			buf[at] = (uint8_t)next_random();
		return len;
	case 3: /* the text cut short */
		return at <= len ? at : len;
	default: /* a piece inserted */
		if (len + plen <= MAX_INPUT) {
			memmove(buf + at + plen, buf + at, len - at);
			memcpy(buf + at, piece, plen);
			return len + plen;
		}
		return len;
	}
}

static size_t generate(uint8_t *buf, unsigned which)
{
	const char *seed = seeds[which][below(8)];
	size_t len = 1 + strlen(seed), rounds = below(8);

	buf[0] = (uint8_t)which;
	memcpy(buf + 1, seed, len - 1);
	for (size_t i = 0; i < rounds; i++)
		len = mutate_once(buf, len);
	return len;
}

int main(int argc, char **argv)
{
	unsigned long inputs = argc > 1 ? strtoul(argv[1], NULL, 10) : 120000;
	uint8_t buf[MAX_INPUT + 64];

	state = argc > 2 ? strtoull(argv[2], NULL, 10) : 16;
	state = state ? state : 1;
	/* --help prints its text to stdout each time it comes up. */
	if (!freopen("/dev/null", "w", stdout))
		return 1;
	for (unsigned long i = 0; i < inputs; i++) {
		size_t len = generate(buf, (unsigned)(i % FUZZ_PARSERS));

		alarm(10);
		LLVMFuzzerTestOneInput(buf, len);
	}
	alarm(0);
	fprintf(stderr, "fuzz_seeded: %lu inputs, seed %s: no finding\n", inputs,
		argc > 2 ? argv[2] : "16");
	return 0;
}
