// SPDX-License-Identifier: GPL-2.0
/* Host unit test of runner/bzimage.c: setup header checks on good, truncated and hostile images. */
#include <asm/bootparam.h>
#include <stdio.h>
#include <stdlib.h>
#include "kselftest_harness.h"
#include "../../runner/bzimage.h"

#define SETUP_SECTS	1
#define SETUP_SIZE	((SETUP_SECTS + 1) * 512)
#define KERNEL_SIZE	4096
#define IMG_SIZE	(SETUP_SIZE + KERNEL_SIZE)

static struct setup_header *hdr(uint8_t *img)
{
	return (struct setup_header *)(img + 0x1f1);
}

/* A minimal image a 2.15 boot loader would accept. */
static uint8_t *make_image(void)
{
	uint8_t *img = calloc(1, IMG_SIZE);
	struct setup_header *h = hdr(img);

	h->setup_sects = SETUP_SECTS;
	h->syssize = KERNEL_SIZE / 16;
	h->boot_flag = 0xaa55;
	h->jump = 0x66eb;			/* jmp to 0x268: the header's end */
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 1;
	h->xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	h->cmdline_size = 2047;
	h->pref_address = 0x1000000;
	h->init_size = 0x100000;
	return img;
}

static int parse(uint8_t *img, size_t len, struct bzimage *bz, const char **err)
{
	*err = NULL;
	return bzimage__parse(img, len, bz, err);
}

TEST(good_image)
{
	uint8_t *img = make_image();
	struct bzimage bz;
	const char *err;

	ASSERT_EQ(0, parse(img, IMG_SIZE, &bz, &err));
	EXPECT_EQ(0x020f, bz.version);
	EXPECT_EQ(SETUP_SIZE, bz.setup_size);
	EXPECT_EQ(KERNEL_SIZE, bz.kernel_size);
	EXPECT_EQ(0x268 - 0x1f1, bz.hdr_len);
	EXPECT_EQ(1, bz.relocatable);
	EXPECT_EQ(0x1000000, bz.pref_address);
	EXPECT_EQ(0x100000, bz.init_size);
	EXPECT_EQ(2047, bz.cmdline_size);
	EXPECT_EQ(0x7fffffff, bz.initrd_addr_max);
	free(img);
}

TEST(setup_sects_zero_means_four)
{
	size_t len = 5 * 512 + KERNEL_SIZE;
	uint8_t *img = make_image();
	struct bzimage bz;
	const char *err;

	img = realloc(img, len);
	memset(img + IMG_SIZE, 0, len - IMG_SIZE);
	hdr(img)->setup_sects = 0;
	ASSERT_EQ(0, parse(img, len, &bz, &err));
	EXPECT_EQ(5 * 512, bz.setup_size);
	EXPECT_EQ(KERNEL_SIZE, bz.kernel_size);
	free(img);
}

/* Every cut of a valid image is rejected, and never read past its end. */
TEST(every_truncation_is_rejected)
{
	uint8_t *img = make_image();
	struct bzimage bz;
	const char *err;
	size_t len;

	for (len = 0; len < IMG_SIZE; len++) {
		uint8_t *cut = malloc(len ? len : 1);

		memcpy(cut, img, len);
		EXPECT_EQ(-1, parse(cut, len, &bz, &err));
		EXPECT_NE(NULL, err);
		free(cut);
	}
	free(img);
}

TEST(truncated_payload_names_syssize)
{
	uint8_t *img = make_image();
	struct bzimage bz;
	const char *err;

	EXPECT_EQ(-1, parse(img, IMG_SIZE - 16, &bz, &err));
	EXPECT_NE(NULL, strstr(err, "syssize"));
	free(img);
}

TEST(bad_magic)
{
	uint8_t *img = make_image();
	struct bzimage bz;
	const char *err;

	hdr(img)->header = 0x53726449;
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	EXPECT_NE(NULL, strstr(err, "HdrS"));
	hdr(img)->header = 0x53726448;
	hdr(img)->boot_flag = 0x55aa;
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	EXPECT_NE(NULL, strstr(err, "0xaa55"));
	free(img);
}

TEST(too_old_protocol)
{
	uint8_t *img = make_image();
	struct bzimage bz;
	const char *err;

	hdr(img)->version = 0x0205;
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	EXPECT_NE(NULL, strstr(err, "2.06"));
	/* 2.06..2.11 have no 64-bit entry flag; the runner needs one. */
	hdr(img)->version = 0x020a;
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	EXPECT_NE(NULL, strstr(err, "64-bit"));
	free(img);
}

TEST(no_64bit_entry)
{
	uint8_t *img = make_image();
	struct bzimage bz;
	const char *err;

	hdr(img)->xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	EXPECT_NE(NULL, strstr(err, "XLF_KERNEL_64"));
	free(img);
}

TEST(hostile_fields)
{
	uint8_t *img = make_image();
	struct bzimage bz;
	const char *err;

	hdr(img)->setup_sects = 255;		/* setup larger than the file */
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	hdr(img)->setup_sects = SETUP_SECTS;

	hdr(img)->kernel_alignment = 0x300000;
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	hdr(img)->kernel_alignment = 0x200000;

	hdr(img)->init_size = KERNEL_SIZE - 1;
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	hdr(img)->init_size = 0xffffffff;
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	hdr(img)->init_size = 0x100000;

	hdr(img)->cmdline_size = 0;
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	hdr(img)->cmdline_size = 2047;

	hdr(img)->syssize = 0xffffffff;		/* 16 * syssize overflows 32 bits */
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	hdr(img)->syssize = 0;
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	hdr(img)->syssize = KERNEL_SIZE / 16;

	hdr(img)->relocatable_kernel = 0;
	hdr(img)->pref_address = 0xfff00000;	/* not relocatable, and no RAM there */
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	hdr(img)->pref_address = 0x1000000;
	EXPECT_EQ(0, parse(img, IMG_SIZE, &bz, &err));
	EXPECT_EQ(0, bz.relocatable);

	hdr(img)->loadflags = 0;		/* zImage */
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	free(img);
}

TEST(header_end_past_file)
{
	uint8_t *img = make_image();
	struct bzimage bz;
	const char *err;

	/* jump displacement 0xff: header "ends" at 0x301 */
	hdr(img)->jump = 0xffeb;
	EXPECT_EQ(-1, parse(img, 0x300, &bz, &err));
	EXPECT_EQ(0, parse(img, IMG_SIZE, &bz, &err));
	EXPECT_LE(bz.hdr_len, sizeof(struct setup_header));
	free(img);
}

TEST(header_shorter_than_its_version)
{
	uint8_t *img = make_image();
	struct bzimage bz;
	const char *err;

	hdr(img)->jump = 0x5eeb;		/* ends at 0x260: no init_size */
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	EXPECT_NE(NULL, strstr(err, "shorter"));
	hdr(img)->jump = 0x00eb;		/* ends at 0x202: no magic */
	EXPECT_EQ(-1, parse(img, IMG_SIZE, &bz, &err));
	free(img);
}

/* The kernel the emulated-host test boots, where this machine has it. */
TEST(debian_kernel)
{
	const char *path = getenv("KVL_BZIMAGE");
	struct bzimage bz;
	const char *err;
	uint8_t *img;
	long len;
	FILE *f;

	if (!path || !(f = fopen(path, "rb")))
		SKIP(return, "set KVL_BZIMAGE to a bzImage to parse a real one");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	img = malloc(len);
	ASSERT_EQ((size_t)len, fread(img, 1, len, f));
	fclose(f);
	ASSERT_EQ(0, parse(img, len, &bz, &err)) TH_LOG("%s", err);
	EXPECT_GE(bz.version, 0x020c);
	EXPECT_TRUE(bz.xloadflags & XLF_KERNEL_64);
	EXPECT_EQ(len, (long)(bz.setup_size + bz.kernel_size));
	free(img);
}

TEST_HARNESS_MAIN
