// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the xHCI controller (devices/xhci.c) with a USB HID
 * tablet on port 1 and keyboard on port 2 (devices/usb_hid.c), driven by
 * a script of register accesses against guest RAM the input also holds.
 *
 *   0..1   length L of the script (little endian, at most the input's rest)
 *   2..    the script: L bytes of operations, each an opcode byte and its
 *          arguments (a truncated one ends the script)
 *   2+L..  guest RAM from guest-physical 0 (at most 256 KiB, in an
 *          allocation of exactly that size, so ASan sees any overrun):
 *          rings, contexts, ERST and buffers, wherever the script points
 *
 * Operations (offsets are into BAR 0, taken modulo its size):
 *   0 off:u16 val:u32          32-bit register write
 *   1 off:u16 val:u64          64-bit register write (low, then high half)
 *   2 off:u16 len:u8           register read of 1..8 bytes
 *   3 slot:u8 val:u32          doorbell write
 *   4 x:u16 y:u16 buttons:u8   tablet input
 *   5 code:u16 down:u8         keyboard input
 *   6 off:u8 val:u8            PCI config byte write (through the write mask)
 *   7                          what xhci_hcd does at start: reset, CONFIG = 16,
 *                              DCBAAP 0, CRCR 0x100, a one-segment ERST at 0x200,
 *                              ERDP 0x400, IMAN.IE, run
 *   8 port:u8                  port reset (PORTSC = PP | PR)
 *
 * Nothing is asserted beyond the sanitizers: every guest address the
 * controller follows must come through vmem, so a bad one can only yield
 * an error event or a halted controller.  Built with -DXHCI_FUZZ_DUMP, it
 * prints the event ring at 0x400 after each input (to check the seeds).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../devices/le.h"
#include "../devices/usb_hid.h"
#include "../devices/xhci.h"

#define RAM_MAX		(256 << 10)

struct fram {
	uint8_t *ram;
	uint64_t len;
};

static void *ram_ptr(void *opaque, uint64_t gpa, uint64_t len)
{
	struct fram *f = opaque;

	if (gpa > f->len || len > f->len - gpa)
		return NULL;
	return f->ram + gpa;
}

static void on_msi(void *opaque, uint64_t addr, uint32_t data)
{
	(void)opaque;
	(void)addr;
	(void)data;
}

static void on_intx(void *opaque, int level)
{
	(void)opaque;
	(void)level;
}

static const struct xhci_platform plat = { on_msi, on_intx, NULL };
static struct xhci xc;

static uint64_t get(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void w32(uint64_t off, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	xhci_mmio(&xc, off % XHCI_BAR_SIZE, b, 4, true);
}

static void w64(uint64_t off, uint64_t v)
{
	uint8_t b[8];

	put64(b, v);
	xhci_mmio(&xc, off % XHCI_BAR_SIZE, b, 8, true);
}

static void start(void)
{
	w32(XHCI_OP + XHCI_USBCMD, XHCI_CMD_HCRST);
	w32(XHCI_OP + XHCI_CONFIG, XHCI_SLOTS);
	w64(XHCI_OP + XHCI_DCBAAP, 0);
	w64(XHCI_OP + XHCI_CRCR, 0x100 | XHCI_CRCR_RCS);
	w32(XHCI_RT + XHCI_ERSTSZ, 1);
	w64(XHCI_RT + XHCI_ERDP, 0x400);
	w64(XHCI_RT + XHCI_ERSTBA, 0x200);
	w32(XHCI_RT + XHCI_IMAN, XHCI_IMAN_IE);
	w32(XHCI_OP + XHCI_USBCMD, XHCI_CMD_RS | XHCI_CMD_INTE);
}

static void cfg_write(uint8_t off, uint8_t val)
{
	uint8_t m = xc.pci.wmask[off];

	xc.pci.cfg[off] = (xc.pci.cfg[off] & ~m) | (val & m);
	if (xc.pci.cfg_written)
		xc.pci.cfg_written(&xc.pci, off, 1);
}

static const unsigned int arg_len[] = { 6, 10, 3, 5, 5, 3, 2, 0, 1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fram f;
	struct vmem mem = { ram_ptr, &f };
	struct usb_dev *tablet, *kbd;
	const uint8_t *s;
	size_t slen, i;

	if (size < 2)
		return 0;
	slen = get(data, 2);
	if (slen > size - 2)
		slen = size - 2;
	s = data + 2;
	f.len = size - 2 - slen;
	if (f.len > RAM_MAX)
		f.len = RAM_MAX;
	f.ram = malloc(f.len ? f.len : 1);
	if (!f.ram)
		return 0;
	memcpy(f.ram, s + slen, f.len);

	if (xhci_init(&xc, &mem, &plat) < 0)
		abort();
	tablet = usb_hid_new(USB_HID_TABLET);
	kbd = usb_hid_new(USB_HID_KBD);
	if (!tablet || !kbd || xhci_attach(&xc, tablet) != 1 || xhci_attach(&xc, kbd) != 2)
		abort();

	for (i = 0; i < slen;) {
		unsigned int opc = s[i++];
		const uint8_t *a = s + i;
		uint8_t b[8];

		if (opc >= sizeof(arg_len) / sizeof(arg_len[0]))
			continue;
		if (slen - i < arg_len[opc])
			break;
		i += arg_len[opc];
		switch (opc) {
		case 0:
			w32(get(a, 2), get(a + 2, 4));
			break;
		case 1:
			w64(get(a, 2), get(a + 2, 8));
			break;
		case 2:
			xhci_mmio(&xc, get(a, 2) % XHCI_BAR_SIZE, b, 1 + a[2] % 8, false);
			break;
		case 3:
			w32(XHCI_DB + 4 * (a[0] % (XHCI_SLOTS + 1)), get(a + 1, 4));
			break;
		case 4:
			usb_hid_pointer(tablet, get(a, 2), get(a + 2, 2), a[4], (int8_t)a[4] >> 3);
			break;
		case 5:
			usb_hid_key(kbd, get(a, 2), a[2] & 1);
			break;
		case 6:
			cfg_write(a[0], a[1]);
			break;
		case 7:
			start();
			break;
		case 8:
			w32(XHCI_OP + 0x400 + 0x10 * (a[0] % XHCI_PORTS),
			    XHCI_PORTSC_PP | XHCI_PORTSC_PR);
			break;
		}
	}
#ifdef XHCI_FUZZ_DUMP
	for (i = 0x400; i + 16 <= f.len && i < 0x800; i += 16)
		if (f.ram[i + 12] & 1)
			printf("event %#zx: %016llx %08llx %08llx\n", i,
			       (unsigned long long)get(f.ram + i, 8),
			       (unsigned long long)get(f.ram + i + 8, 4),
			       (unsigned long long)get(f.ram + i + 12, 4));
	printf("usbsts %08x\n", xc.usbsts);
#endif
	usb_hid_free(tablet);
	usb_hid_free(kbd);
	free(f.ram);
	return 0;
}
