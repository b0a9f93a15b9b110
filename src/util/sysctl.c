/* Kernel switches from /proc/sys (util/sysctl.h). */
#include <stdio.h>
#include "util/sysctl.h"

bool sysctl_is_set(const char *path)
{
	FILE *f = fopen(path, "re");
	int value = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &value) != 1)
		value = 0;
	fclose(f);
	return value != 0;
}
