/* -r in the live view: the replay thread plays the recording at its recorded pace (or
 * faster), and the UI thread steers it with keys through a replay_control: pause, one
 * snapshot on or back, a jump to a time, a speed. */
#ifndef TCPTOP_REPLAY_LIVE_H
#define TCPTOP_REPLAY_LIVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "record/record_index.h"

#define REPLAY_SPEED_MAX 64

/* Shared by the UI thread (it asks) and the replay thread (it does). */
struct replay_control {
	pthread_mutex_t lock;
	int wake_fd; /* the replay thread's: the UI asked something */
	/* Under lock. The index, once built (before the first snapshot is published) and
	 * until the replay thread ends; it does not change meanwhile. */
	const struct record_index *index;
	bool paused;
	unsigned speed;            /* 1, 2, 4 .. REPLAY_SPEED_MAX times the recorded pace */
	long target;               /* the entry to show next, -1 for none asked */
	uint64_t shown_generation; /* of the last snapshot published, and its entry */
	size_t shown_entry;
};

/* 0, or -1 (said on stderr) when the eventfd cannot be made. */
int replay_control_init(struct replay_control *c);
void replay_control_destroy(struct replay_control *c);

/* The UI's side: each wakes the replay thread. */
void replay_control_pause(struct replay_control *c);
void replay_control_step(struct replay_control *c, int step);
void replay_control_speed(struct replay_control *c, bool faster);
void replay_control_go(struct replay_control *c, size_t entry);

/* The first entry at or after text (a record_time_valid time): 0, or -1 when no
 * snapshot is that late. */
int replay_control_find(struct replay_control *c, const char *text, size_t *entry);

/* What the header shows for the snapshot of generation: its entry (false when the
 * generation is not the one last published), the count, the state. */
struct replay_position {
	size_t entry, count;
	bool known;
	bool paused;
	unsigned speed;
};
void replay_control_position(struct replay_control *c, uint64_t generation,
			     struct replay_position *out);

/* Published snapshots count from 1 whatever was decoded before (--begin, a step back):
 * the rows' versions move with the generation. */
void replay_renumber(struct snapshot *s, uint64_t generation);

struct record_reader;
struct snapshot_feed;

/* The replay thread's loop in the live view, until stop_fd; the snapshots of range. */
void replay_live(struct replay_control *c, struct record_reader *r,
		 const struct record_times *range, struct snapshot_feed *feed, int stop_fd);

#endif
