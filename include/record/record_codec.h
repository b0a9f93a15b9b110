/* The recording format (doc/recording.md): a file header, then one self-delimiting,
 * checksummed record per snapshot, its payload zlib-compressed. A key record holds every
 * row; a delta record holds what changed since the record before it, so an unchanged
 * flow costs a few bits. Pure functions of their inputs: no files, no threads. */
#ifndef TCPTOP_RECORD_CODEC_H
#define TCPTOP_RECORD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

/* 2: identities carry the cgroup id, rows the cgroup's path (F_CGROUP). */
#define RECORD_FORMAT_VERSION 2
#define RECORD_FILE_HEADER_LEN 16
#define RECORD_HEADER_LEN 24
#define RECORD_TRAILER_LEN 4
/* A key record at least this often, so that reading can start at most this many records
 * before any snapshot. */
#define RECORD_KEY_EVERY 60
/* No payload is bigger (a 16M-row snapshot compresses to well under it). */
#define RECORD_PAYLOAD_MAX (1U << 30)

enum record_type {
	RECORD_KEY = 1,
	RECORD_DELTA = 2,
};

/* What the fixed part of a record says. */
struct record_header {
	uint8_t type;
	uint32_t payload_len;
	uint32_t raw_len;
	uint64_t real_ns; /* the snapshot's CLOCK_REALTIME, readable without inflating */
};

/* A growable byte buffer. */
struct record_buf {
	uint8_t *data;
	size_t len, room;
};

/* The rows of the last snapshot encoded or decoded, which the next delta is against. */
struct record_history {
	struct flow_row *rows;
	size_t nrows, room;
	uint64_t mono_ns;
	bool valid;
	/* The encoder's: a key index over rows, rebuilt when the rows move. */
	uint32_t *index;
	size_t index_size;
	unsigned since_key;
};

struct record_encoder {
	struct record_history last;
	struct record_buf raw, record;
};

struct record_decoder {
	struct record_history last;
	struct record_buf raw;
	uint64_t generation; /* of the last snapshot decoded */
};

void record_file_header(uint8_t out[RECORD_FILE_HEADER_LEN]);
/* 0 when header is this format's; else -1 and why (one phrase, static or in buf). */
int record_file_header_check(const uint8_t *header, size_t len, char *why, size_t why_len);

void record_encoder_init(struct record_encoder *e);
void record_encoder_free(struct record_encoder *e);
/* The record of s, whole, in e->record (valid until the next call); a key record when
 * key is true or one is due. -1 when out of memory (the next record is then a key). */
int record_encode(struct record_encoder *e, const struct snapshot *s, bool key);

/* The fixed part at data (len bytes available): 0, or -1 if it is not a record's. */
int record_header_parse(const uint8_t *data, size_t len, struct record_header *h);
/* Whether a whole record at data (header parsed into h) has the checksum it carries. */
bool record_checksum_ok(const uint8_t *data, const struct record_header *h);
size_t record_total_len(const struct record_header *h);

void record_decoder_init(struct record_decoder *d);
void record_decoder_free(struct record_decoder *d);
/* Forget the last snapshot: the next record must be a key one. */
void record_decoder_reset(struct record_decoder *d);
/* The snapshot of the whole, checked record at data; the caller owns the reference.
 * NULL with why set when the record cannot be decoded (a delta without the record
 * before it, a malformed payload, out of memory). */
struct snapshot *record_decode(struct record_decoder *d, const uint8_t *data,
			       const struct record_header *h, const char **why);

#endif
