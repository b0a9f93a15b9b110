/* Faults on purpose (ebpf/hooks.h). libtcptop.a, and so the tcptop that is installed,
 * has this file built without TCPTOP_FAULT_INJECTION: it reads no environment variable
 * and never breaks a set. make check builds tests/tcptop-fault with the define; its own
 * object takes the place of this one (the linker then never needs the library's). */
#include <stdlib.h>
#include <string.h>
#include "ebpf/hooks.h"

#ifdef TCPTOP_FAULT_INJECTION
bool ebpf_hooks_broken_on_purpose(const char *set_name)
{
	const char *broken = getenv("TCPTOP_BREAK_HOOKS");
	size_t len = strlen(set_name);

	for (const char *p = broken; p && *p; p += strcspn(p, ","), p += *p == ',')
		if (strncmp(p, set_name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return true;
	return false;
}

const char *ebpf_hooks_fault_note(const char *set_name)
{
	return ebpf_hooks_broken_on_purpose(set_name) ? "; TCPTOP_BREAK_HOOKS asked for that" : "";
}
#else
bool ebpf_hooks_broken_on_purpose(const char *set_name)
{
	(void)set_name;
	return false;
}

const char *ebpf_hooks_fault_note(const char *set_name)
{
	(void)set_name;
	return "";
}
#endif
