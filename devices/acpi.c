// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal ACPI for Linux guests (ACPI 6.x table layouts): RSDP -> XSDT ->
 * FADT (+ FACS, DSDT) and MADT, in the reserved BIOS area at 0xe0000.
 *
 *  - MADT: one enabled local APIC per vCPU (APIC ID = vCPU id), the
 *    in-kernel IOAPIC at 0xfec00000 (GSI 0-23), SCI (IRQ 9) level/high,
 *    LINT1 as NMI.  ISA IRQs map 1:1 to GSIs, as KVM's default routing does.
 *  - FADT: PM1a event block at 0x600 (4 bytes) and PM1a control at 0x604
 *    (2 bytes), SCI on IRQ 9, no SMI command port (always in ACPI mode),
 *    no PM timer, an 8042, no VGA.
 *  - DSDT: \_S5 = Package {5, 5, 0, 0}, and the PCI root \_SB.PCI0
 *    (PNP0A03, segment 0, bus 0): its windows (ports outside CF8-CFF,
 *    the MMIO hole of pci_host.h) and _PRT, INTA-D of each slot on
 *    IOAPIC pins 16-23 (PCI_INTX_GSI); the i8042's keyboard \_SB.PS2K
 *    (PNP0303: ports 0x60 and 0x64, IRQ 1) and mouse \_SB.PS2M (PNP0F13:
 *    IRQ 12), without which Linux does not probe the controller.
 *  - MCFG: the ECAM of segment 0, bus 0.
 *
 * Writing SLP_EN with SLP_TYP 5 to PM1a control ends the run with status
 * 0, as a power-off.  The power button is the fixed-feature one (FADT
 * PWR_BUTTON clear): acpi_power_button() sets PWRBTN_STS, and the SCI is
 * held high while any status bit is set whose enable bit is too, as
 * Linux's button driver expects (it then reports KEY_POWER).
 */
#include <pthread.h>
#include <string.h>

#include "../runner/device.h"
#include "../runner/ioport.h"
#include "../runner/kvm.h"
#include "acpi.h"
#include "le.h"
#include "pci.h"
#include "pci_host.h"

#define XSDT_ADDR	(ACPI_RSDP_ADDR + 0x040)
#define FADT_ADDR	(ACPI_RSDP_ADDR + 0x100)
#define FACS_ADDR	(ACPI_RSDP_ADDR + 0x240)
#define MADT_ADDR	(ACPI_RSDP_ADDR + 0x400)	/* up to 0x648 with 64 vCPUs */
#define MCFG_ADDR	(ACPI_RSDP_ADDR + 0x700)
#define DSDT_ADDR	(ACPI_RSDP_ADDR + 0x800)
#define ACPI_AREA_END	(ACPI_RSDP_ADDR + 0x2000)

#define PM1_EVT		0x600
#define PM1_CNT		0x604
#define SCI_IRQ		9
#define SLP_TYP_S5	5
#define SLP_EN		(1U << 13)
#define SCI_EN		(1U << 0)
#define PWRBTN_STS	(1U << 8)	/* PM1_STS; PM1_EN has the enable at the same bit */
#define PM1_STS_MASK	PWRBTN_STS

#define IOAPIC_ADDR	((uint32_t)MEM_IOAPIC_BASE)
#define LAPIC_ADDR	((uint32_t)MEM_LAPIC_BASE)

static struct kvm *acpi_kvm;
static pthread_mutex_t pm_lock = PTHREAD_MUTEX_INITIALIZER;
static uint16_t pm1_sts, pm1_en, pm1_cnt = SCI_EN;

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return -sum;
}

/* Common 36-byte header; the checksum is filled in by finish(). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "KVLITE", 6);
	memcpy(t + 16, "KVLITEVM", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "KVLT", 4);
	put32(t + 32, 1);
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

static uint32_t build_madt(uint8_t *t, int nr_cpus)
{
	uint32_t off = 44;
	int i;

	put32(t + 36, LAPIC_ADDR);
	put32(t + 40, 1);			/* PCAT_COMPAT: there are 8259s too */
	for (i = 0; i < nr_cpus; i++, off += 8) {
		t[off] = 0;			/* processor local APIC */
		t[off + 1] = 8;
		t[off + 2] = i;			/* ACPI processor UID */
		t[off + 3] = i;			/* APIC ID */
		put32(t + off + 4, 1);		/* enabled */
	}
	t[off] = 1;				/* I/O APIC */
	t[off + 1] = 12;
	t[off + 2] = 0;				/* IOAPIC ID, as KVM's is at reset */
	put32(t + off + 4, IOAPIC_ADDR);
	put32(t + off + 8, 0);			/* GSI base */
	off += 12;
	t[off] = 2;				/* interrupt source override */
	t[off + 1] = 10;
	t[off + 2] = 0;				/* ISA */
	t[off + 3] = SCI_IRQ;
	put32(t + off + 4, SCI_IRQ);
	put16(t + off + 8, 0x000d);		/* active high, level triggered */
	off += 10;
	t[off] = 4;				/* local APIC NMI */
	t[off + 1] = 6;
	t[off + 2] = 0xff;			/* all processors */
	put16(t + off + 3, 0);
	t[off + 5] = 1;				/* LINT1 */
	off += 6;
	header(t, "APIC", off, 5);
	finish(t, off);
	return off;
}

/* @op, a PkgLength for what follows, then @body; returns the bytes written. */
static uint32_t aml_pkg(uint8_t *out, const uint8_t *op, uint32_t oplen, const uint8_t *body,
			uint32_t blen)
{
	uint32_t n = oplen, len;

	memcpy(out, op, oplen);
	if (blen + 1 <= 63) {
		out[n++] = blen + 1;
	} else if (blen + 2 < 4096) {
		len = blen + 2;
		out[n++] = 0x40 | (len & 0xf);
		out[n++] = len >> 4;
	} else {
		len = blen + 3;
		out[n++] = 0x80 | (len & 0xf);
		out[n++] = len >> 4;
		out[n++] = len >> 12;
	}
	memmove(out + n, body, blen);
	return n + blen;
}

static uint32_t aml_int(uint8_t *out, uint32_t v)
{
	if (v <= 1) {
		out[0] = v;		/* ZeroOp, OneOp */
		return 1;
	}
	if (v <= 0xff) {
		out[0] = 0x0a;
		out[1] = v;
		return 2;
	}
	out[0] = 0x0c;
	put32(out + 1, v);
	return 5;
}

/* Word address space descriptor (ACPI 6.4.3.5.3), a producer with fixed min and max. */
static uint32_t word_space(uint8_t *out, uint8_t type, uint8_t tflags, uint16_t min,
			   uint16_t max)
{
	out[0] = 0x88;
	put16(out + 1, 13);
	out[3] = type;
	out[4] = 0x0c;		/* MinFixed, MaxFixed, producer */
	out[5] = tflags;
	put16(out + 6, 0);
	put16(out + 8, min);
	put16(out + 10, max);
	put16(out + 12, 0);
	put16(out + 14, max - min + 1);
	return 16;
}

/* Device (\_SB.PCI0) { _HID, _UID, _SEG, _BBN, _CRS, _PRT }; returns its length. */
static uint32_t build_pci0(uint8_t *out)
{
	static const uint8_t dev_op[] = { 0x5b, 0x82 };
	static const uint8_t buf_op[] = { 0x11 };
	static const uint8_t pkg_op[] = { 0x12 };
	static uint8_t body[4096], crs[128], prt[2048], ent[16];
	uint32_t n = 0, c = 0, p = 0, e, slot, pin;

	memcpy(body, "\\\x2e_SB_PCI0", 10);	/* \_SB.PCI0 */
	n = 10;
	memcpy(body + n, "\x08_HID\x0c\x41\xd0\x0a\x03", 10);	/* EisaId ("PNP0A03") */
	n += 10;
	memcpy(body + n, "\x08_UID\x00\x08_SEG\x00\x08_BBN\x00", 18);
	n += 18;

	c = word_space(crs, 2, 0, 0, 0);			/* bus 0 */
	crs[c++] = 0x47;					/* IO (Decode16, 0xcf8, 0xcf8, 1, 8) */
	crs[c++] = 1;
	put16(crs + c, PCI_CF8_PORT);
	put16(crs + c + 2, PCI_CF8_PORT);
	crs[c + 4] = 1;
	crs[c + 5] = 8;
	c += 6;
	c += word_space(crs + c, 1, 3, 0, PCI_CF8_PORT - 1);	/* I/O, entire range */
	c += word_space(crs + c, 1, 3, PCI_CF8_PORT + 8, 0xffff);
	crs[c] = 0x87;						/* DWord memory, read/write */
	put16(crs + c + 1, 23);
	crs[c + 3] = 0;
	crs[c + 4] = 0x0c;
	crs[c + 5] = 1;
	put32(crs + c + 6, 0);
	put32(crs + c + 10, PCI_MMIO_BASE);
	put32(crs + c + 14, PCI_MMIO_BASE + PCI_MMIO_SIZE - 1);
	put32(crs + c + 18, 0);
	put32(crs + c + 22, PCI_MMIO_SIZE);
	c += 26;
	crs[c++] = 0x79;					/* end tag */
	crs[c++] = 0;
	memcpy(body + n, "\x08_CRS", 5);
	n += 5;
	memmove(crs + 2, crs, c);				/* Buffer (size) { ... } */
	crs[0] = 0x0a;
	crs[1] = c;
	n += aml_pkg(body + n, buf_op, 1, crs, c + 2);

	prt[p++] = (PCI_SLOTS - 1) * 4;				/* NumElements */
	for (slot = 1; slot < PCI_SLOTS; slot++)
		for (pin = 0; pin < 4; pin++) {
			e = 0;
			ent[e++] = 4;
			e += aml_int(ent + e, slot << 16 | 0xffff);
			e += aml_int(ent + e, pin);
			e += aml_int(ent + e, 0);		/* no link device: a GSI */
			e += aml_int(ent + e, PCI_INTX_GSI(slot, pin));
			p += aml_pkg(prt + p, pkg_op, 1, ent, e);
		}
	memcpy(body + n, "\x08_PRT", 5);
	n += 5;
	n += aml_pkg(body + n, pkg_op, 1, prt, p);
	return aml_pkg(out, dev_op, 2, body, n);
}

/* Device (\_SB.@name) { _HID (EisaId @eisa), _CRS (ResourceTemplate () { @res }) } */
static uint32_t ps2_device(uint8_t *out, const char *name, const char *eisa, const uint8_t *res,
			   uint32_t rlen)
{
	static const uint8_t dev_op[] = { 0x5b, 0x82 };
	static const uint8_t buf_op[] = { 0x11 };
	uint8_t body[64], crs[32];
	uint32_t n;

	memcpy(body, "\\\x2e_SB_", 6);
	memcpy(body + 6, name, 4);
	memcpy(body + 10, "\x08_HID\x0c", 6);
	memcpy(body + 16, eisa, 4);
	memcpy(body + 20, "\x08_CRS", 5);
	n = 25;
	crs[0] = 0x0a;					/* BufferSize */
	crs[1] = rlen + 2;
	memcpy(crs + 2, res, rlen);
	crs[rlen + 2] = 0x79;				/* end tag */
	crs[rlen + 3] = 0;
	n += aml_pkg(body + n, buf_op, 1, crs, rlen + 4);
	return aml_pkg(out, dev_op, 2, body, n);
}

/* The i8042's two PS/2 ports, as Linux's i8042 finds them through PNP (i8042.c). */
static uint32_t build_ps2(uint8_t *out)
{
	static const uint8_t kbd[] = {
		0x47, 1, 0x60, 0, 0x60, 0, 1, 1,	/* IO (Decode16, 0x60, 0x60, 1, 1) */
		0x47, 1, 0x64, 0, 0x64, 0, 1, 1,	/* IO (Decode16, 0x64, 0x64, 1, 1) */
		0x22, 1 << 1, 0,			/* IRQNoFlags () {1} */
	};
	static const uint8_t mouse[] = { 0x22, 0, 1 << (12 - 8) };	/* IRQNoFlags () {12} */
	uint32_t n;

	n = ps2_device(out, "PS2K", "\x41\xd0\x03\x03", kbd, sizeof(kbd));	/* PNP0303 */
	return n + ps2_device(out + n, "PS2M", "\x41\xd0\x0f\x13", mouse, sizeof(mouse));
}

static uint32_t build_mcfg(uint8_t *t)
{
	uint32_t len = 44 + 16;

	put64(t + 44, PCI_ECAM_BASE);
	put16(t + 52, 0);			/* segment */
	t[54] = 0;				/* first bus */
	t[55] = PCI_ECAM_SIZE / (1 << 20) - 1;	/* last bus */
	header(t, "MCFG", len, 1);
	finish(t, len);
	return len;
}

static int acpi_build(struct kvm *kvm)
{
	static const uint8_t s5[] = {	/* Name (_S5, Package (4) {5, 5, 0, 0}) */
		0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
		0x0a, SLP_TYP_S5, 0x0a, SLP_TYP_S5, 0x00, 0x00,
	};
	uint8_t *a = guest_ptr(kvm, ACPI_RSDP_ADDR, ACPI_AREA_END - ACPI_RSDP_ADDR);
	uint8_t *rsdp, *xsdt, *fadt, *facs, *dsdt, *madt, *mcfg;
	uint32_t len;

	if (!a)
		return -1;
	memset(a, 0, ACPI_AREA_END - ACPI_RSDP_ADDR);
	rsdp = a;
	xsdt = a + (XSDT_ADDR - ACPI_RSDP_ADDR);
	fadt = a + (FADT_ADDR - ACPI_RSDP_ADDR);
	facs = a + (FACS_ADDR - ACPI_RSDP_ADDR);
	dsdt = a + (DSDT_ADDR - ACPI_RSDP_ADDR);
	madt = a + (MADT_ADDR - ACPI_RSDP_ADDR);
	mcfg = a + (MCFG_ADDR - ACPI_RSDP_ADDR);

	len = 36 + sizeof(s5);
	memcpy(dsdt + 36, s5, sizeof(s5));
	len += build_pci0(dsdt + len);
	len += build_ps2(dsdt + len);
	if (DSDT_ADDR + len > ACPI_AREA_END)
		return -1;
	header(dsdt, "DSDT", len, 2);
	finish(dsdt, len);

	memcpy(facs, "FACS", 4);
	put32(facs + 4, 64);
	facs[32] = 2;				/* version */

	len = 276;
	put32(fadt + 36, FACS_ADDR);
	put32(fadt + 40, DSDT_ADDR);
	put16(fadt + 46, SCI_IRQ);
	put32(fadt + 56, PM1_EVT);
	put32(fadt + 64, PM1_CNT);
	fadt[88] = 4;				/* PM1_EVT_LEN */
	fadt[89] = 2;				/* PM1_CNT_LEN */
	put16(fadt + 96, 101);			/* no C2 */
	put16(fadt + 98, 1001);			/* no C3 */
	put16(fadt + 109, (1 << 1) | (1 << 2));	/* IAPC_BOOT_ARCH: 8042, no VGA */
	/* WBINVD, C1, the fixed-feature power button, no sleep button */
	put32(fadt + 112, (1 << 0) | (1 << 2) | (1 << 5));
	fadt[131] = 0;				/* minor revision */
	put64(fadt + 132, FACS_ADDR);
	put64(fadt + 140, DSDT_ADDR);
	header(fadt, "FACP", len, 6);
	finish(fadt, len);

	len = build_madt(madt, kvm->nr_cpus);
	if (MADT_ADDR + len > MCFG_ADDR)
		return -1;
	build_mcfg(mcfg);

	len = 36 + 3 * 8;
	put64(xsdt + 36, FADT_ADDR);
	put64(xsdt + 44, MADT_ADDR);
	put64(xsdt + 52, MCFG_ADDR);
	header(xsdt, "XSDT", len, 1);
	finish(xsdt, len);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "KVLITE", 6);
	rsdp[15] = 2;				/* ACPI 2.0+ RSDP */
	put32(rsdp + 20, 36);
	put64(rsdp + 24, XSDT_ADDR);
	rsdp[8] = checksum(rsdp, 20);
	rsdp[32] = checksum(rsdp, 36);
	return 0;
}

static uint16_t get16(const uint8_t *data, uint32_t len)
{
	return len >= 2 ? (uint16_t)(data[0] | data[1] << 8) : data[0];
}

static void reply16(uint8_t *data, uint32_t len, uint16_t v)
{
	memset(data, 0, len);
	data[0] = v;
	if (len >= 2)
		data[1] = v >> 8;
}

/* The SCI is level triggered: high while an enabled event is pending (pm_lock held). */
static void update_sci(void)
{
	static int level;
	int now = !!(pm1_sts & pm1_en & PM1_STS_MASK);

	if (now != level) {
		level = now;
		kvm__irq_line(acpi_kvm, SCI_IRQ, now);
	}
}

void acpi_power_button(void)
{
	pthread_mutex_lock(&pm_lock);
	if (acpi_kvm) {
		pm1_sts |= PWRBTN_STS;
		update_sci();
	}
	pthread_mutex_unlock(&pm_lock);
}

/* PM1a_STS (offset 0, write 1 to clear) and PM1a_EN (offset 2). */
static void pm1_evt_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		       bool is_write)
{
	(void)opaque;
	pthread_mutex_lock(&pm_lock);
	if (off == 0 && is_write)
		pm1_sts &= ~get16(data, len);
	else if (off == 0)
		reply16(data, len, pm1_sts);
	else if (off == 2 && is_write)
		pm1_en = get16(data, len);
	else if (off == 2)
		reply16(data, len, pm1_en);
	else if (!is_write)
		memset(data, 0, len);
	if (is_write)
		update_sci();
	pthread_mutex_unlock(&pm_lock);
}

static void pm1_cnt_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		       bool is_write)
{
	uint16_t v;

	(void)opaque;
	pthread_mutex_lock(&pm_lock);
	if (!is_write) {
		reply16(data, len, off ? pm1_cnt >> 8 : pm1_cnt);
		pthread_mutex_unlock(&pm_lock);
		return;
	}
	v = off ? (uint16_t)((pm1_cnt & 0xff) | data[0] << 8) :
		  (len >= 2 ? get16(data, len) : (uint16_t)((pm1_cnt & 0xff00) | data[0]));
	pm1_cnt = (v & ~SLP_EN) | SCI_EN;
	pthread_mutex_unlock(&pm_lock);
	if ((v & SLP_EN) && ((v >> 10) & 7) == SLP_TYP_S5)
		kvm__request_exit(acpi_kvm, 0, "guest powered off (ACPI S5)");
}

static int acpi_init(struct kvm *kvm)
{
	if (kvm->cfg.boot != BOOT_LINUX)
		return 0;
	acpi_kvm = kvm;
	if (acpi_build(kvm) < 0) {
		warn("no room for the ACPI tables");
		return -1;
	}
	if (io__register(IO_PIO, PM1_EVT, 4, pm1_evt_io, NULL) < 0 ||
	    io__register(IO_PIO, PM1_CNT, 2, pm1_cnt_io, NULL) < 0)
		return -1;
	return 0;
}
device_init(acpi_init);
