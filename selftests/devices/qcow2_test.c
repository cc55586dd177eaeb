// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of devices/qcow2.c through devices/disk.h: images made by
 * qemu-img (v2, v3, compressed, zero clusters, backing chains) read and
 * written here, then compared with what qemu-img convert -O raw sees and
 * checked with qemu-img check; hand-built hostile images must be refused
 * with a message (or fail the I/O) without crashing.
 */
#include <stdarg.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "../../devices/disk.h"

#define MB (1024 * 1024)

static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Pseudo-random bytes with zero runs and repeated (compressible) stretches. */
static void pattern(uint8_t *b, size_t len, unsigned int seed)
{
	size_t i;

	rng_state = 0x9e3779b97f4a7c15ull ^ seed;
	for (i = 0; i < len; i += 4096) {
		size_t n = len - i < 4096 ? len - i : 4096, k;
		unsigned int kind = rnd() % 4;

		for (k = 0; k < n; k++)
			b[i + k] = kind == 0 ? 0 : kind == 1 ? (uint8_t)(i >> 12) : (uint8_t)rnd();
	}
}

static uint8_t *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(n ? n : 1);
	if (b && fread(b, 1, n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = n;
	return b;
}

static int store(const char *path, const void *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	int r;

	if (!f)
		return -1;
	r = fwrite(b, 1, len, f) == len ? 0 : -1;
	return fclose(f) ? -1 : r;
}

static int dread(struct disk *d, uint64_t off, void *buf, size_t len)
{
	struct iovec v = { buf, len };

	return disk_preadv(d, &v, 1, off);
}

/* Written in two iovecs, the split at an odd sector, to exercise gathering. */
static int dwrite(struct disk *d, uint64_t off, const void *buf, size_t len)
{
	size_t cut = len > 1024 ? 512 * (1 + rnd() % (len / 512 - 1)) : len;
	struct iovec v[2] = { { (void *)buf, cut }, { (uint8_t *)buf + cut, len - cut } };

	return disk_pwritev(d, v, len > cut ? 2 : 1, off);
}

/* Read the whole disk in chunks of varying size and compare. */
static int same_through_disk(struct disk *d, const uint8_t *want, size_t len)
{
	uint8_t *b = malloc(len);
	size_t off = 0;
	int bad = 0;

	while (off < len) {
		size_t n = 512 * (1 + rnd() % 300);

		if (n > len - off)
			n = len - off;
		if (dread(d, off, b + off, n)) {
			bad = -1;
			break;
		}
		off += n;
	}
	if (!bad && memcmp(b, want, len))
		bad = 1;
	free(b);
	return bad;
}

/* What qemu-img reads from the image equals want. */
static int same_through_qemu(const char *dir, const char *img, const uint8_t *want, size_t len)
{
	char out[300];
	size_t n;
	uint8_t *b;
	int r;

	snprintf(out, sizeof(out), "%s/convert.raw", dir);
	if (sh("qemu-img convert -O raw '%s' '%s'", img, out))
		return -1;
	b = load(out, &n);
	if (!b)
		return -1;
	r = n != len || memcmp(b, want, len);
	free(b);
	return r;
}

static int qcheck(const char *img)
{
	return sh("qemu-img check -q '%s'", img);
}

FIXTURE(img) {
	char dir[64];
	char path[200];
	char err[300];
};

FIXTURE_SETUP(img)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/qcow2_test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	if (sh("qemu-img --version >/dev/null 2>&1"))
		SKIP(return, "qemu-img not installed (scripts/deps installs qemu-utils)");
}

FIXTURE_TEARDOWN(img)
{
	sh("rm -rf '%s'", self->dir);
}

static const char *const fmt_opts[] = {
	"compat=0.10,cluster_size=65536",
	"compat=1.1,cluster_size=512,refcount_bits=1",
	"compat=1.1,cluster_size=4096,refcount_bits=64",
	"compat=1.1,cluster_size=65536",
	"compat=1.1,cluster_size=2097152,refcount_bits=8",
};

TEST_F(img, reads_match_qemu)
{
	size_t len = 5 * MB + 3 * 512, i;
	uint8_t *want = malloc(len);
	struct disk *d;

	pattern(want, len, 1);
	snprintf(self->path, sizeof(self->path), "%s/src.raw", self->dir);
	ASSERT_EQ(0, store(self->path, want, len));
	for (i = 0; i < sizeof(fmt_opts) / sizeof(fmt_opts[0]); i++) {
		TH_LOG("%s", fmt_opts[i]);
		ASSERT_EQ(0, sh("qemu-img convert -f raw -O qcow2 -o %s '%s/src.raw' '%s/i.qcow2'",
				fmt_opts[i], self->dir, self->dir));
		snprintf(self->path, sizeof(self->path), "%s/i.qcow2", self->dir);
		d = disk_open(self->path, DISK_FMT_AUTO, true, self->err, sizeof(self->err));
		ASSERT_NE(NULL, d) TH_LOG("%s", self->err);
		EXPECT_EQ(DISK_FMT_QCOW2, d->format);
		EXPECT_EQ(len, d->size);
		EXPECT_EQ(0, same_through_disk(d, want, len));
		disk_close(d);
	}
	free(want);
}

/* Random writes mirrored in memory; qemu-img must agree and find no errors. */
static void random_writes(struct __test_metadata *_metadata, const char *dir, const char *img,
			  uint8_t *want, size_t len, int nwrites)
{
	char err[300];
	struct disk *d;
	uint8_t *b = malloc(256 * 1024);
	int i;

	d = disk_open(img, DISK_FMT_QCOW2, false, err, sizeof(err));
	ASSERT_NE(NULL, d) TH_LOG("%s", err);
	for (i = 0; i < nwrites; i++) {
		size_t n = 512 * (1 + rnd() % (rnd() % 4 ? 16 : 512));
		size_t off = 512 * (rnd() % (len / 512));

		if (n > len - off)
			n = len - off;
		pattern(b, n, 1000 + i);
		ASSERT_EQ(0, dwrite(d, off, b, n));
		memcpy(want + off, b, n);
		if (i % 64 == 63)
			ASSERT_EQ(0, disk_flush(d));
	}
	EXPECT_EQ(0, same_through_disk(d, want, len));
	ASSERT_EQ(0, disk_flush(d));
	disk_close(d);
	free(b);
	EXPECT_EQ(0, qcheck(img));
	EXPECT_EQ(0, same_through_qemu(dir, img, want, len));
	d = disk_open(img, DISK_FMT_AUTO, true, err, sizeof(err));
	ASSERT_NE(NULL, d) TH_LOG("%s", err);
	EXPECT_EQ(0, same_through_disk(d, want, len));
	disk_close(d);
}

TEST_F(img, writes_allocate_and_check_clean)
{
	size_t len = 6 * MB, i;
	uint8_t *want = malloc(len);

	for (i = 0; i < sizeof(fmt_opts) / sizeof(fmt_opts[0]); i++) {
		TH_LOG("%s", fmt_opts[i]);
		snprintf(self->path, sizeof(self->path), "%s/w.qcow2", self->dir);
		ASSERT_EQ(0, sh("qemu-img create -q -f qcow2 -o %s '%s' %zu", fmt_opts[i],
				self->path, len));
		memset(want, 0, len);
		random_writes(_metadata, self->dir, self->path, want, len, 200);
	}
	free(want);
}

/* 512-byte clusters with 64-bit refcounts: the refcount table must grow. */
TEST_F(img, refcount_table_grows)
{
	size_t len = 8 * MB;
	uint8_t *want = malloc(len);
	struct disk *d;

	snprintf(self->path, sizeof(self->path), "%s/g.qcow2", self->dir);
	ASSERT_EQ(0, sh("qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=64 '%s' %zu",
			self->path, len));
	pattern(want, len, 7);
	d = disk_open(self->path, DISK_FMT_AUTO, false, self->err, sizeof(self->err));
	ASSERT_NE(NULL, d) TH_LOG("%s", self->err);
	ASSERT_EQ(0, dwrite(d, 0, want, len / 2));
	ASSERT_EQ(0, disk_flush(d));
	ASSERT_EQ(0, dwrite(d, len / 2, want + len / 2, len / 2));
	disk_close(d);
	EXPECT_EQ(0, qcheck(self->path));
	EXPECT_EQ(0, same_through_qemu(self->dir, self->path, want, len));
	free(want);
}

/*
 * 512-byte clusters over 64 MiB: far more L2 tables and refcount blocks
 * than the cache holds, so tables are evicted between flushes.  A copy of
 * the file taken at any moment (as after a crash) may leak clusters but
 * must hold no corruption (qemu-img check exit status 0 or 3).
 */
TEST_F(img, eviction_keeps_image_consistent)
{
	size_t len = 64 * MB;
	uint8_t *want = calloc(1, len), b[4096];
	struct disk *d;
	int i, st;

	snprintf(self->path, sizeof(self->path), "%s/e.qcow2", self->dir);
	ASSERT_EQ(0, sh("qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=16 '%s' %zu",
			self->path, len));
	d = disk_open(self->path, DISK_FMT_AUTO, false, self->err, sizeof(self->err));
	ASSERT_NE(NULL, d) TH_LOG("%s", self->err);
	for (i = 0; i < 1500; i++) {
		size_t n = 512 * (1 + rnd() % 8), off = 512 * (rnd() % (len / 512 - 8));

		pattern(b, n, 50 + i);
		ASSERT_EQ(0, dwrite(d, off, b, n));
		memcpy(want + off, b, n);
		if (i % 500 == 250) {
			ASSERT_EQ(0, sh("cp --sparse=always '%s' '%s/crash.qcow2'", self->path,
					self->dir));
			st = sh("qemu-img check -q '%s/crash.qcow2' >/dev/null 2>&1", self->dir);
			EXPECT_TRUE(st == 0 || st == 3) TH_LOG("check %d after %d writes", st, i);
		}
	}
	ASSERT_EQ(0, disk_flush(d));
	ASSERT_EQ(0, sh("cp --sparse=always '%s' '%s/crash.qcow2'", self->path, self->dir));
	EXPECT_EQ(0, sh("qemu-img check -q '%s/crash.qcow2'", self->dir));
	EXPECT_EQ(0, same_through_disk(d, want, len));
	disk_close(d);
	EXPECT_EQ(0, qcheck(self->path));
	EXPECT_EQ(0, same_through_qemu(self->dir, self->path, want, len));
	free(want);
}

TEST_F(img, compressed_read_and_overwrite)
{
	size_t len = 4 * MB;
	uint8_t *want = malloc(len);
	struct disk *d;

	pattern(want, len, 3);
	snprintf(self->path, sizeof(self->path), "%s/src.raw", self->dir);
	ASSERT_EQ(0, store(self->path, want, len));
	ASSERT_EQ(0, sh("qemu-img convert -c -f raw -O qcow2 -o cluster_size=4096 '%s' '%s/c.qcow2'",
			self->path, self->dir));
	snprintf(self->path, sizeof(self->path), "%s/c.qcow2", self->dir);
	ASSERT_EQ(0, sh("qemu-img map --output=json '%s' | grep -q '\"compressed\": true' || "
			"qemu-img check '%s' | grep -q 'compressed'", self->path, self->path));
	d = disk_open(self->path, DISK_FMT_AUTO, true, self->err, sizeof(self->err));
	ASSERT_NE(NULL, d) TH_LOG("%s", self->err);
	EXPECT_EQ(0, same_through_disk(d, want, len));
	disk_close(d);
	random_writes(_metadata, self->dir, self->path, want, len, 150);
	free(want);
}

TEST_F(img, zero_clusters)
{
	size_t len = 4 * MB;
	uint8_t *want = malloc(len);

	snprintf(self->path, sizeof(self->path), "%s/z.qcow2", self->dir);
	ASSERT_EQ(0, sh("qemu-img create -q -f qcow2 '%s' %zu && qemu-io -c 'write -P 0x55 0 2M' "
			"-c 'write -z 64k 128k' -c 'write -z -u 512k 64k' '%s' >/dev/null",
			self->path, len, self->path));
	memset(want, 0, len);
	memset(want, 0x55, 2 * MB);
	memset(want + 65536, 0, 131072);
	memset(want + 524288, 0, 65536);
	EXPECT_EQ(0, same_through_qemu(self->dir, self->path, want, len));
	random_writes(_metadata, self->dir, self->path, want, len, 100);
	free(want);
}

TEST_F(img, backing_chain)
{
	size_t blen = 3 * MB, len = 4 * MB;
	uint8_t *want = malloc(len), *mid;
	char mid_raw[300];
	size_t n;
	struct disk *d;

	memset(want, 0, len);
	pattern(want, blen, 5);
	snprintf(self->path, sizeof(self->path), "%s/base.raw", self->dir);
	ASSERT_EQ(0, store(self->path, want, blen));
	/* mid (v2) over raw base, with its own data; top (v3) over mid. */
	ASSERT_EQ(0, sh("cd '%s' && qemu-img create -q -f qcow2 -o compat=0.10 -b base.raw -F raw "
			"mid.qcow2 %zu && qemu-io -c 'write -P 0xaa 1M 64k' mid.qcow2 >/dev/null && "
			"qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 %zu",
			self->dir, blen, len));
	memset(want + MB, 0xaa, 65536);
	snprintf(self->path, sizeof(self->path), "%s/top.qcow2", self->dir);
	EXPECT_EQ(0, same_through_qemu(self->dir, self->path, want, len));
	d = disk_open(self->path, DISK_FMT_AUTO, true, self->err, sizeof(self->err));
	ASSERT_NE(NULL, d) TH_LOG("%s", self->err);
	EXPECT_EQ(0, same_through_disk(d, want, len));
	disk_close(d);

	snprintf(mid_raw, sizeof(mid_raw), "%s/mid.qcow2", self->dir);
	ASSERT_EQ(0, sh("qemu-img convert -O raw '%s' '%s/mid-before.raw'", mid_raw, self->dir));
	random_writes(_metadata, self->dir, self->path, want, len, 150);
	/* The backing chain stayed as it was. */
	ASSERT_EQ(0, sh("qemu-img check -q '%s'", mid_raw));
	snprintf(mid_raw, sizeof(mid_raw), "%s/mid-before.raw", self->dir);
	mid = load(mid_raw, &n);
	ASSERT_NE(NULL, mid);
	snprintf(mid_raw, sizeof(mid_raw), "%s/mid.qcow2", self->dir);
	EXPECT_EQ(0, same_through_qemu(self->dir, mid_raw, mid, n));
	free(mid);
	free(want);
}

/* Internal snapshots stay intact while the active image is written. */
TEST_F(img, writes_beside_internal_snapshots)
{
	size_t len = 4 * MB;
	uint8_t *want = malloc(len), *snap;
	char raw[300];
	size_t n;

	pattern(want, len, 9);
	snprintf(self->path, sizeof(self->path), "%s/src.raw", self->dir);
	ASSERT_EQ(0, store(self->path, want, len));
	snprintf(self->path, sizeof(self->path), "%s/s.qcow2", self->dir);
	/* Some clusters compressed, then two snapshots around more writes. */
	ASSERT_EQ(0, sh("cd '%s' && qemu-img convert -c -f raw -O qcow2 -o cluster_size=4096 src.raw "
			"s.qcow2 && qemu-img snapshot -c s1 s.qcow2 && qemu-io -c 'write -P 0x3c 1M 64k' "
			"s.qcow2 >/dev/null && qemu-img snapshot -c s2 s.qcow2 && "
			"qemu-img convert -O raw -l snapshot.name=s1 s.qcow2 s1.raw", self->dir));
	memset(want + MB, 0x3c, 65536);
	random_writes(_metadata, self->dir, self->path, want, len, 200);
	/* s1 reads as it did before. */
	snprintf(raw, sizeof(raw), "%s/s1.raw", self->dir);
	snap = load(raw, &n);
	ASSERT_NE(NULL, snap);
	ASSERT_EQ(0, sh("cd '%s' && qemu-img convert -O raw -l snapshot.name=s1 s.qcow2 s1-after.raw && "
			"cmp -s s1.raw s1-after.raw", self->dir));
	/* And reverting to it with qemu-img gives it back. */
	ASSERT_EQ(0, sh("cd '%s' && qemu-img snapshot -a s1 s.qcow2 && qemu-img check -q s.qcow2",
			self->dir));
	EXPECT_EQ(0, same_through_qemu(self->dir, self->path, snap, n));
	free(snap);
	free(want);
}

TEST_F(img, backing_loops_and_depth)
{
	int i;

	ASSERT_EQ(0, sh("cd '%s' && qemu-img create -q -f qcow2 a.qcow2 1M && "
			"qemu-img create -q -f qcow2 b.qcow2 1M && "
			"qemu-img rebase -u -b b.qcow2 -F qcow2 a.qcow2 && "
			"qemu-img rebase -u -b a.qcow2 -F qcow2 b.qcow2 && "
			"qemu-img create -q -f qcow2 s.qcow2 1M && "
			"qemu-img rebase -u -b s.qcow2 -F qcow2 s.qcow2", self->dir));
	snprintf(self->path, sizeof(self->path), "%s/a.qcow2", self->dir);
	EXPECT_EQ(NULL, disk_open(self->path, DISK_FMT_AUTO, true, self->err, sizeof(self->err)));
	TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "loop"));
	snprintf(self->path, sizeof(self->path), "%s/s.qcow2", self->dir);
	EXPECT_EQ(NULL, disk_open(self->path, DISK_FMT_AUTO, false, self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "loop"));

	ASSERT_EQ(0, sh("cd '%s' && qemu-img create -q -f raw l0 1M", self->dir));
	for (i = 1; i <= 20; i++)
		ASSERT_EQ(0, sh("cd '%s' && qemu-img create -q -f qcow2 -b l%d -F %s l%d 1M",
				self->dir, i - 1, i == 1 ? "raw" : "qcow2", i));
	snprintf(self->path, sizeof(self->path), "%s/l10", self->dir);
	struct disk *d = disk_open(self->path, DISK_FMT_AUTO, true, self->err, sizeof(self->err));

	EXPECT_NE(NULL, d) TH_LOG("%s", self->err);
	disk_close(d);
	snprintf(self->path, sizeof(self->path), "%s/l20", self->dir);
	EXPECT_EQ(NULL, disk_open(self->path, DISK_FMT_AUTO, true, self->err, sizeof(self->err)));
	TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "longer"));
}

/*
 * A minimal valid v3 image, 64 KiB clusters: header, refcount table,
 * refcount block, L1 table, one L2 table, one data cluster.
 */
#define HC 65536
static uint8_t *minimal(size_t *len)
{
	uint8_t *b = calloc(6, HC);
	int i;

	*len = 6 * HC;
	memcpy(b, "QFI\xfb", 4);
	b[7] = 3;				/* version */
	b[23] = 16;				/* cluster_bits */
	b[29] = 0x40;				/* size 4 MiB */
	b[39] = 1;				/* l1_size */
	b[45] = 3;				/* l1_table_offset */
	b[53] = 1;				/* refcount_table_offset */
	b[59] = 1;				/* refcount_table_clusters */
	b[99] = 4;				/* refcount_order */
	b[103] = 104;				/* header_length */
	b[HC + 5] = 2;				/* rt[0] = cluster 2 */
	for (i = 0; i < 6; i++)
		b[2 * HC + 2 * i + 1] = 1;	/* clusters 0-5 in use */
	b[3 * HC] = 0x80;			/* L1[0] = cluster 4, COPIED */
	b[3 * HC + 5] = 4;
	b[4 * HC] = 0x80;			/* L2[0] = cluster 5, COPIED */
	b[4 * HC + 5] = 5;
	memset(b + 5 * HC, 0x5a, HC);
	return b;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v);
}

TEST_F(img, minimal_hand_built_image_is_valid)
{
	size_t len;
	uint8_t *b = minimal(&len), buf[1024];
	struct disk *d;

	snprintf(self->path, sizeof(self->path), "%s/m.qcow2", self->dir);
	ASSERT_EQ(0, store(self->path, b, len));
	EXPECT_EQ(0, qcheck(self->path));
	d = disk_open(self->path, DISK_FMT_AUTO, false, self->err, sizeof(self->err));
	ASSERT_NE(NULL, d) TH_LOG("%s", self->err);
	ASSERT_EQ(0, dread(d, 65536 - 512, buf, 1024));
	EXPECT_EQ(0x5a, buf[0]);
	EXPECT_EQ(0, buf[512]);
	disk_close(d);
	free(b);
}

struct mutation {
	const char *name;
	unsigned int at;	/* byte offset in the file */
	int width;		/* 4 or 8 */
	uint64_t value;
	const char *expect;	/* in the error message */
};

static const struct mutation hostile[] = {
	{ "magic", 0, 4, 0x514649fa, "magic" },
	{ "version 1", 4, 4, 1, "version" },
	{ "version 4", 4, 4, 4, "version" },
	{ "cluster_bits 8", 20, 4, 8, "cluster_bits" },
	{ "cluster_bits 22", 20, 4, 22, "cluster_bits" },
	{ "cluster_bits 4G", 20, 4, 0xffffffff, "cluster_bits" },
	{ "encrypted", 32, 4, 1, "encrypted" },
	{ "l1_size small", 36, 4, 0, "cover" },
	{ "l1_size huge", 36, 4, 0x10000000, "L1" },
	{ "l1_size beyond file", 36, 4, 0x10000, "L1" },
	{ "l1 offset unaligned", 40, 8, 3 * HC + 8, "L1" },
	{ "l1 offset beyond", 40, 8, 1ull << 50, "L1" },
	{ "l1 offset zero", 40, 8, 0, "L1" },
	{ "size huge", 24, 8, 1ull << 62, "cover" },
	{ "size negative", 24, 8, ~0ull, "size" },
	{ "rt offset unaligned", 48, 8, HC + 512, "refcount table" },
	{ "rt offset beyond", 48, 8, 1ull << 40, "refcount table" },
	{ "rt clusters zero", 56, 4, 0, "refcount table" },
	{ "rt clusters huge", 56, 4, 0xffffffff, "refcount table" },
	{ "rt clusters beyond file", 56, 4, 100, "refcount table" },
	{ "snapshots many", 60, 4, 0x7fffffff, "snapshots" },
	{ "snapshot table at 0", 60, 4, 1, "snapshot table" },
	{ "unknown incompat", 72, 8, 1ull << 40, "unknown incompatible" },
	{ "dirty rw", 72, 8, 1, "dirty" },
	{ "corrupt rw", 72, 8, 2, "corrupt" },
	{ "external data file", 72, 8, 4, "external" },
	{ "extended l2", 72, 8, 16, "extended L2" },
	{ "zstd", 72, 8, 8, "compression" },
	{ "refcount_order 7", 96, 4, 7, "refcount_order" },
	{ "header_length 100", 100, 4, 100, "header_length" },
	{ "header_length odd", 100, 4, 105, "header_length" },
	{ "header_length huge", 100, 4, 0x80000000, "header_length" },
	{ "backing name length", 16, 4, 5000, "backing" },
	{ "backing name outside", 8, 8, HC - 4, "backing" },
	{ "L1 entry beyond", 3 * HC, 8, 0x8000000100000000ull, "L1 entry" },
	{ "L1 entry reserved", 3 * HC, 8, 0x8000000000040001ull, "L1 entry" },
	{ "rt entry unaligned", HC, 8, 2 * HC + 8, "refcount table entry" },
	{ "rt entry beyond", HC, 8, 1ull << 45, "refcount table entry" },
	{ "extension overrun", 104, 8, 0x12345678ffff0000ull, "extension" },
};

TEST_F(img, hostile_headers_are_refused)
{
	size_t len, i;
	uint8_t *b = minimal(&len);

	snprintf(self->path, sizeof(self->path), "%s/h.qcow2", self->dir);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const struct mutation *m = &hostile[i];
		uint8_t *c = malloc(len);
		struct disk *d;

		memcpy(c, b, len);
		if (m->width == 4)
			put32(c + m->at, m->value);
		else
			put64(c + m->at, m->value);
		if (!strcmp(m->name, "backing name length"))
			put64(c + 8, 512);
		ASSERT_EQ(0, store(self->path, c, len));
		self->err[0] = 0;
		d = disk_open(self->path, DISK_FMT_QCOW2, false, self->err, sizeof(self->err));
		EXPECT_EQ(NULL, d) TH_LOG("%s: opened", m->name);
		EXPECT_NE(NULL, strstr(self->err, m->expect))
			TH_LOG("%s: '%s' lacks '%s'", m->name, self->err, m->expect);
		disk_close(d);
		free(c);
	}
	/* A file too short for any header. */
	ASSERT_EQ(0, store(self->path, b, 50));
	EXPECT_EQ(NULL, disk_open(self->path, DISK_FMT_QCOW2, true, self->err, sizeof(self->err)));
	free(b);
}

/* Dirty and corrupt images still open read-only (nothing is written). */
TEST_F(img, dirty_image_opens_read_only)
{
	size_t len;
	uint8_t *b = minimal(&len), buf[512];
	struct disk *d;

	put64(b + 72, 3);
	snprintf(self->path, sizeof(self->path), "%s/d.qcow2", self->dir);
	ASSERT_EQ(0, store(self->path, b, len));
	d = disk_open(self->path, DISK_FMT_AUTO, true, self->err, sizeof(self->err));
	ASSERT_NE(NULL, d) TH_LOG("%s", self->err);
	ASSERT_EQ(0, dread(d, 0, buf, 512));
	EXPECT_EQ(0x5a, buf[0]);
	disk_close(d);
	free(b);
}

/* Bad L2 entries pass open; the I/O that meets them fails cleanly. */
TEST_F(img, hostile_l2_entries_fail_io)
{
	static const uint64_t bad[] = {
		0x8000000000050100ull,		/* reserved bit 8 */
		0x8000100000000000ull | 1ull << 56,	/* reserved bit 56 */
		0x8000010000000000ull,		/* data far beyond the file */
		0xc000000000050000ull,		/* compressed + COPIED */
		0x4000000000000000ull,		/* compressed at offset 0 */
		0x4000000000050000ull,		/* compressed garbage */
		0x7fffffffffffffffull,		/* compressed, huge length, far */
	};
	size_t len, i;
	uint8_t *b = minimal(&len), buf[512];

	snprintf(self->path, sizeof(self->path), "%s/l2.qcow2", self->dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct disk *d;

		put64(b + 4 * HC, bad[i]);
		ASSERT_EQ(0, store(self->path, b, len));
		d = disk_open(self->path, DISK_FMT_AUTO, false, self->err, sizeof(self->err));
		ASSERT_NE(NULL, d) TH_LOG("%s", self->err);
		EXPECT_NE(0, dread(d, 0, buf, 512)) TH_LOG("entry %zu read", i);
		memset(buf, 1, sizeof(buf));
		EXPECT_NE(0, dwrite(d, 512, buf, 512)) TH_LOG("entry %zu write", i);
		/* The next L2 entry (unallocated) still works. */
		EXPECT_EQ(0, dwrite(d, HC, buf, 512));
		EXPECT_EQ(0, dread(d, HC, buf, 512));
		EXPECT_EQ(1, buf[0]);
		disk_close(d);
	}
	/* A preallocated zero cluster far past the end: reads zeros, writes fail. */
	{
		struct disk *d;

		put64(b + 4 * HC, 0x8000010000000001ull);
		ASSERT_EQ(0, store(self->path, b, len));
		d = disk_open(self->path, DISK_FMT_AUTO, false, self->err, sizeof(self->err));
		ASSERT_NE(NULL, d) TH_LOG("%s", self->err);
		memset(buf, 1, sizeof(buf));
		EXPECT_EQ(0, dread(d, 0, buf, 512));
		EXPECT_EQ(0, buf[0]);
		EXPECT_EQ(-EIO, dwrite(d, 0, buf, 512));
		disk_close(d);
	}
	/* L2 table and refcount block in one cluster. */
	free(b);
	b = minimal(&len);
	put64(b + 3 * HC, 0x8000000000020000ull);
	ASSERT_EQ(0, store(self->path, b, len));
	{
		struct disk *d = disk_open(self->path, DISK_FMT_AUTO, false, self->err,
					   sizeof(self->err));

		ASSERT_NE(NULL, d) TH_LOG("%s", self->err);
		memset(buf, 1, sizeof(buf));
		dwrite(d, 0, buf, 512);
		dwrite(d, 3 * HC, buf, 512);
		dread(d, 2 * HC, buf, 512);
		disk_close(d);
	}
	free(b);
}

TEST_F(img, feature_bits_reported)
{
	snprintf(self->path, sizeof(self->path), "%s/f.qcow2", self->dir);
	ASSERT_EQ(0, sh("qemu-img create -q -f qcow2 '%s' 1M", self->path));
	/* Incompatible bit 1 (corrupt) refuses writes; bit 5 is unknown. */
	ASSERT_EQ(0, sh("printf '\\000\\000\\000\\000\\000\\000\\000\\002' | "
			"dd of='%s' bs=1 seek=72 conv=notrunc status=none", self->path));
	EXPECT_EQ(NULL, disk_open(self->path, DISK_FMT_AUTO, false, self->err, sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "corrupt"));
	ASSERT_EQ(0, sh("printf '\\000\\000\\000\\000\\000\\000\\000\\040' | "
			"dd of='%s' bs=1 seek=72 conv=notrunc status=none", self->path));
	EXPECT_EQ(NULL, disk_open(self->path, DISK_FMT_AUTO, true, self->err, sizeof(self->err)));
	TH_LOG("%s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "5"));
}

TEST_HARNESS_MAIN
