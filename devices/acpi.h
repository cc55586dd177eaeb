/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal ACPI: where the runner puts the tables (the legacy BIOS area). */
#ifndef KVL_DEVICES_ACPI_H
#define KVL_DEVICES_ACPI_H

#define ACPI_RSDP_ADDR		0xe0000

#endif
