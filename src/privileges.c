/* Least privilege over a run (privileges.h). */
#include <errno.h>
#include <string.h>
#include <urcu/urcu-memb.h>
#include <urcu/call-rcu.h>
#include "privileges.h"
#include "util/caps.h"
#include "util/report.h"
#include "util/thread_start.h"

/* liburcu starts its worker the first time a thread calls call_rcu(), which happens
 * during the start-up walk, while main still holds every capability. */
static void *start_rcu_worker(void *unused)
{
	struct call_rcu_data *worker = urcu_memb_get_default_call_rcu_data();

	(void)unused;
	if (worker)
		pthread_setname_np(urcu_memb_get_call_rcu_thread(worker), "tcptop-rcu");
	return NULL;
}

int privileges_begin(void)
{
	pthread_t tid;
	int err;

	if (caps_forbid_new_privileges() < 0) {
		report_error("cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	err = thread_start(&tid, NULL, "tcptop-rcu-init", THREAD_NO_CAPS, start_rcu_worker, NULL);
	if (err) {
		report_error("cannot start a thread: %s", strerror(err));
		return -1;
	}
	pthread_join(tid, NULL);
	return 0;
}

int privileges_after_start_up(struct backend *b)
{
	unsigned needs = b->ops->steady_needs ? b->ops->steady_needs(b) : 0;
	char kept[128];

	if (caps_keep_only(needs) < 0) {
		report_error("cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	caps_describe_effective(kept, sizeof(kept));
	report_verbose("capabilities after start-up: %s for main and the collector, none for "
		       "every other thread",
		       kept);
	return 0;
}
