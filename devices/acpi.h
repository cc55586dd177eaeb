/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal ACPI: where the runner puts the tables (the legacy BIOS area). */
#ifndef KVL_DEVICES_ACPI_H
#define KVL_DEVICES_ACPI_H

#include "../runner/memmap.h"

#define ACPI_RSDP_ADDR		MEM_BIOS_START

/* Press the fixed-feature power button (PWRBTN_STS, SCI when enabled). */
void acpi_power_button(void);

#endif
