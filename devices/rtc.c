// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal MC146818 CMOS RTC at ports 0x70 (index; bit 7 is the NMI mask)
 * and 0x71 (data): the time registers read the host's UTC time in BCD,
 * 24-hour mode, never "update in progress"; the clock cannot be set.  The
 * other bytes are plain CMOS RAM.  No alarm or periodic interrupts.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "../runner/device.h"
#include "../runner/ioport.h"
#include "../runner/kvm.h"

#define RTC_PORT	0x70
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_CENTURY	0x32

static struct {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];
} rtc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static uint8_t rtc_read(uint8_t reg)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (reg) {
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case REG_CENTURY: return bcd((tm.tm_year + 1900) / 100);
	case REG_A: return 0x26;	/* 32.768 kHz time base, 1024 Hz rate, no UIP */
	case REG_B: return 0x02;	/* 24-hour, BCD, no interrupts */
	case REG_C: return 0x00;
	case REG_D: return 0x80;	/* battery good */
	default: return rtc.cmos[reg];
	}
}

static void rtc_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		   bool is_write)
{
	(void)opaque;
	if (len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&rtc.lock);
	if (off == 0) {
		if (is_write)
			rtc.index = data[0] & 0x7f;
		else
			data[0] = 0xff;
	} else if (is_write) {
		if (rtc.index > REG_D && rtc.index != REG_CENTURY)
			rtc.cmos[rtc.index] = data[0];
	} else {
		data[0] = rtc_read(rtc.index);
	}
	pthread_mutex_unlock(&rtc.lock);
}

static int rtc_init(struct kvm *kvm)
{
	(void)kvm;
	return io__register(IO_PIO, RTC_PORT, 2, rtc_io, NULL);
}
device_init(rtc_init);
