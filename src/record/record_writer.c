/* -w/--write: a thread that reads each published snapshot, like the log's writer, and
 * appends its record to the recording. Snapshots it was too slow for are counted as not
 * recorded (losses.h); the record after a
 * failure or a reopen is a key record. */
#include <string.h>
#include "record/record.h"
#include "record/record_codec.h"
#include "record/record_file.h"
#include "util/report.h"
#include "util/wakeup.h"

static uint8_t file_header[RECORD_FILE_HEADER_LEN];
static const struct log_kind recording_kind = {
	.option = "-w/--write",
	.noun = "recording",
	.unit = "snapshot",
	.header = file_header,
	.header_len = sizeof(file_header),
	.check = record_file_check_existing,
};

const struct log_kind *record_log_kind(void)
{
	record_file_header(file_header);
	return &recording_kind;
}

static void write_snapshot(struct record_writer_args *args, struct record_encoder *enc,
			   const struct snapshot *s)
{
	log_file_begin(args->file);
	/* A delta follows the record written before it; a gap in the snapshots is no matter
	 * (it predicts from the snapshot it encoded last), a gap in the file is. */
	if (record_encode(enc, s, log_file_fresh(args->file)) < 0) {
		log_file_skipped(args->file, 1);
		log_file_end(args->file, false);
		return;
	}
	log_file_append(args->file, (const char *)enc->record.data, enc->record.len);
	log_file_end(args->file, true);
}

void *record_writer_thread(void *arg)
{
	struct record_writer_args *args = arg;
	struct record_encoder enc;
	uint64_t last_generation = 0;
	struct snapshot *s;

	urcu_memb_register_thread();
	record_encoder_init(&enc);
	for (;;) {
		bool stopping = wakeup_wait(args->stop_fd, args->notify_fd, -1) != WAKEUP_SIGNALLED;
		s = snapshot_acquire(args->feed);
		if (!s || s->generation == last_generation) {
			snapshot_release(s);
			if (stopping)
				break;
			continue;
		}
		if (last_generation && s->generation > last_generation + 1)
			log_file_skipped(args->file, s->generation - last_generation - 1);
		last_generation = s->generation;
		write_snapshot(args, &enc, s);
		snapshot_release(s);
		if (stopping) /* the newest snapshot, if it raced with the stop, is in */
			break;
	}
	record_encoder_free(&enc);
	urcu_memb_unregister_thread();
	return NULL;
}
