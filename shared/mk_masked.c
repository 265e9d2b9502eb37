#include "mk_masked.h"

#include <string.h>

const char *const mk_masked_paths[] = {
    "/proc/acpi",        "/proc/asound",  "/proc/interrupts",
    "/proc/kcore",       "/proc/keys",    "/proc/latency_stats",
    "/proc/sched_debug", "/proc/scsi",    "/proc/timer_list",
    "/proc/timer_stats", "/sys/firmware", "/sys/devices/virtual/powercap",
};
const size_t mk_nmasked_paths =
    sizeof(mk_masked_paths) / sizeof(mk_masked_paths[0]);

const char *const mk_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};
const size_t mk_nreadonly_paths =
    sizeof(mk_readonly_paths) / sizeof(mk_readonly_paths[0]);

int mk_path_is_confined(const char *path, int masked_only)
{
  for (size_t i = 0; i < mk_nmasked_paths; i++)
    if (strcmp(path, mk_masked_paths[i]) == 0)
      return 1;
  for (size_t i = 0; !masked_only && i < mk_nreadonly_paths; i++)
    if (strcmp(path, mk_readonly_paths[i]) == 0)
      return 1;
  return 0;
}
