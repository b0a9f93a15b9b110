/* The live view's keys for a recording (-r): P pauses or plays, ] and [ step one
 * snapshot on or back, + and - double or halve the speed, J asks for a time to jump to.
 * They ask the replay thread (replay_live.h) and draw nothing: the snapshot it publishes
 * next does. Without a recording they do nothing. */
#include <stdio.h>
#include <string.h>
#include <ncurses.h>
#include "record/record.h"
#include "record/replay_live.h"
#include "ui/ui_state.h"

#define KEY_ESC 27

int ui_timenav_pause(struct ui *ui)
{
	if (!ui->replay)
		return 0;
	replay_control_pause(ui->replay);
	return UI_REDRAW;
}

int ui_timenav_next(struct ui *ui)
{
	if (!ui->replay)
		return 0;
	replay_control_step(ui->replay, 1);
	return UI_REDRAW;
}

int ui_timenav_previous(struct ui *ui)
{
	if (!ui->replay)
		return 0;
	replay_control_step(ui->replay, -1);
	return UI_REDRAW;
}

int ui_timenav_faster(struct ui *ui)
{
	if (!ui->replay)
		return 0;
	replay_control_speed(ui->replay, true);
	return UI_REDRAW;
}

int ui_timenav_slower(struct ui *ui)
{
	if (!ui->replay)
		return 0;
	replay_control_speed(ui->replay, false);
	return UI_REDRAW;
}

int ui_timenav_jump_start(struct ui *ui)
{
	if (!ui->replay)
		return 0;
	ui->jump_text[0] = '\0';
	ui->mode = UI_MODE_JUMP;
	return UI_REDRAW;
}

/* Enter: to the first snapshot at or after the time, as --begin reads it. A time that is
 * not one, or later than the recording, is one line in the key bar; nothing moves. */
static void jump(struct ui *ui)
{
	size_t entry;

	if (!record_time_valid(ui->jump_text))
		snprintf(ui->message, sizeof(ui->message),
			 "Not a time: '%s' (2026-12-04T03:12:05Z at any precision, or HH:MM[:SS])",
			 ui->jump_text);
	else if (replay_control_find(ui->replay, ui->jump_text, &entry) < 0)
		snprintf(ui->message, sizeof(ui->message), "No snapshot at or after %s",
			 ui->jump_text);
	else
		replay_control_go(ui->replay, entry);
}

int ui_timenav_jump_key(struct ui *ui, int key)
{
	size_t len = strlen(ui->jump_text);

	if (key == KEY_ESC) {
		ui->mode = UI_MODE_ROWS;
	} else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		ui->mode = UI_MODE_ROWS;
		jump(ui);
	} else if ((key == KEY_BACKSPACE || key == 127 || key == '\b') && len > 0) {
		ui->jump_text[len - 1] = '\0';
	} else if (key > ' ' && key < 127 && len + 1 < sizeof(ui->jump_text)) {
		ui->jump_text[len] = (char)key;
		ui->jump_text[len + 1] = '\0';
	}
	return UI_REDRAW;
}
