// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of runner/pvh.c: hand-built ELF images (one PT_LOAD, the
 * Xen PHYS32_ENTRY note) and their broken variants, and Debian's vmlinux
 * when KVL_VMLINUX names it (scripts/check extracts it from the bzImage).
 */
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "../../runner/pvh.h"

#define IMG_LEN		0x400
#define NOTE_OFF	0x100
#define LOAD_OFF	0x200
#define LOAD_PADDR	0x1000000
#define ENTRY		0x1000010

struct img {
	uint8_t b[IMG_LEN];
	Elf64_Ehdr *eh;
	Elf64_Phdr *load, *note;
	uint32_t *nhdr;		/* namesz, descsz, type, then "Xen\0", then desc */
};

static void build(struct img *m, int descsz)
{
	uint64_t entry = ENTRY;

	memset(m->b, 0, sizeof(m->b));
	m->eh = (Elf64_Ehdr *)m->b;
	m->load = (Elf64_Phdr *)(m->b + sizeof(Elf64_Ehdr));
	m->note = m->load + 1;
	m->nhdr = (uint32_t *)(m->b + NOTE_OFF);
	memcpy(m->eh->e_ident, ELFMAG, SELFMAG);
	m->eh->e_ident[EI_CLASS] = ELFCLASS64;
	m->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh->e_ident[EI_VERSION] = EV_CURRENT;
	m->eh->e_type = ET_EXEC;
	m->eh->e_machine = EM_X86_64;
	m->eh->e_version = EV_CURRENT;
	m->eh->e_entry = 0xffffffff81000000ull;
	m->eh->e_phoff = sizeof(Elf64_Ehdr);
	m->eh->e_ehsize = sizeof(Elf64_Ehdr);
	m->eh->e_phentsize = sizeof(Elf64_Phdr);
	m->eh->e_phnum = 2;
	m->load->p_type = PT_LOAD;
	m->load->p_offset = LOAD_OFF;
	m->load->p_vaddr = 0xffffffff81000000ull;
	m->load->p_paddr = LOAD_PADDR;
	m->load->p_filesz = 0x200;
	m->load->p_memsz = 0x1000;
	m->note->p_type = PT_NOTE;
	m->note->p_offset = NOTE_OFF;
	m->note->p_filesz = 16 + descsz;
	m->note->p_align = 4;
	m->nhdr[0] = 4;
	m->nhdr[1] = descsz;
	m->nhdr[2] = 18;		/* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(&m->nhdr[3], "Xen", 4);
	memcpy(&m->nhdr[4], &entry, descsz < 8 ? descsz : 8);
}

TEST(hand_built_image_parses)
{
	struct pvh_image p;
	const char *err = NULL;
	struct img m;

	build(&m, 8);
	ASSERT_EQ(0, pvh__parse(m.b, sizeof(m.b), &p, &err)) TH_LOG("%s", err);
	EXPECT_EQ(ENTRY, p.entry);
	EXPECT_EQ(1, p.nseg);
	EXPECT_EQ(LOAD_PADDR, p.seg[0].paddr);
	EXPECT_EQ(LOAD_OFF, p.seg[0].offset);
	EXPECT_EQ(0x200, p.seg[0].filesz);
	EXPECT_EQ(LOAD_PADDR + 0x1000, p.end);

	build(&m, 4);			/* a 32-bit descriptor works too */
	ASSERT_EQ(0, pvh__parse(m.b, sizeof(m.b), &p, &err)) TH_LOG("%s", err);
	EXPECT_EQ(ENTRY, p.entry);
	EXPECT_TRUE(pvh__is_elf(m.b, 4));
}

/* Two loads, given out of order: sorted; overlapping: refused. */
TEST(segments_sorted_and_disjoint)
{
	struct pvh_image p;
	const char *err = NULL;
	Elf64_Phdr *second;
	struct img m;

	build(&m, 8);
	second = m.note + 1;
	m.eh->e_phnum = 3;
	*second = *m.load;
	m.load->p_paddr = 0x3000000;
	m.load->p_offset = LOAD_OFF + 0x100;
	m.load->p_filesz = 0x100;
	/* the entry is in the second (lower) one */
	ASSERT_EQ(0, pvh__parse(m.b, sizeof(m.b), &p, &err)) TH_LOG("%s", err);
	EXPECT_EQ(2, p.nseg);
	EXPECT_EQ(LOAD_PADDR, p.seg[0].paddr);
	EXPECT_EQ(0x3000000, p.seg[1].paddr);
	EXPECT_EQ(0x3001000, p.end);
	m.load->p_paddr = LOAD_PADDR + 0x800;
	EXPECT_EQ(-1, pvh__parse(m.b, sizeof(m.b), &p, &err));
	EXPECT_NE(NULL, strstr(err, "overlap"));
}

struct bad {
	const char *name, *expect;
	void (*mutate)(struct img *m);
};

static void not_elf(struct img *m) { m->b[1] = 'X'; }
static void arm64(struct img *m) { m->eh->e_machine = EM_AARCH64; }
static void big_endian(struct img *m) { m->eh->e_ident[EI_DATA] = ELFDATA2MSB; }
static void shared_object(struct img *m) { m->eh->e_type = ET_DYN; }
static void no_phdrs(struct img *m) { m->eh->e_phnum = 0; }
static void phdrs_beyond(struct img *m) { m->eh->e_phnum = 0x7000; }
static void phoff_beyond(struct img *m) { m->eh->e_phoff = 1ull << 40; }
static void other_note(struct img *m) { m->nhdr[2] = 17; }
static void other_owner(struct img *m) { memcpy(&m->nhdr[3], "Xeo", 4); }
static void desc_size(struct img *m) { m->nhdr[1] = 2; m->note->p_filesz = 20; }
static void note_beyond(struct img *m) { m->note->p_offset = IMG_LEN - 8; }
static void note_huge(struct img *m) { m->note->p_filesz = 1ull << 62; }
static void entry_outside(struct img *m) { m->nhdr[4] = 0x2000000; }
static void entry_in_bss(struct img *m) { m->nhdr[4] = LOAD_PADDR + 0x800; }
static void entry_high(struct img *m) { m->nhdr[5] = 1; }
static void load_low(struct img *m) { m->load->p_paddr = 0xf0000; m->nhdr[4] = 0xf0010; }
static void load_high(struct img *m) { m->load->p_paddr = 0xbffff800; m->nhdr[4] = 0xbffff810; }
static void load_wrap(struct img *m) { m->load->p_memsz = ~0ull - 0x100; }
static void load_beyond(struct img *m) { m->load->p_offset = IMG_LEN - 0x100; }
static void load_offset_huge(struct img *m) { m->load->p_offset = ~0ull - 0x10; }
static void file_gt_mem(struct img *m) { m->load->p_memsz = 0x100; }
static void no_load(struct img *m) { m->load->p_type = PT_NULL; }

static const struct bad bad[] = {
	{ "not ELF", "ELF", not_elf },
	{ "arm64", "x86", arm64 },
	{ "big endian", "", big_endian },
	{ "shared object", "executable", shared_object },
	{ "no program headers", "program headers", no_phdrs },
	{ "program headers beyond the file", "", phdrs_beyond },
	{ "phoff beyond the file", "", phoff_beyond },
	{ "other note", "PHYS32_ENTRY", other_note },
	{ "other owner", "PHYS32_ENTRY", other_owner },
	{ "descriptor size", "descriptor", desc_size },
	{ "note beyond the file", "", note_beyond },
	{ "note huge", "", note_huge },
	{ "entry outside", "entry", entry_outside },
	{ "entry in bss", "entry", entry_in_bss },
	{ "entry above 4G", "entry", entry_high },
	{ "load below 1M", "PT_LOAD outside", load_low },
	{ "load above 3G", "PT_LOAD outside", load_high },
	{ "load wraps", "PT_LOAD outside", load_wrap },
	{ "load beyond the file", "beyond", load_beyond },
	{ "load offset huge", "beyond", load_offset_huge },
	{ "file bytes above memory", "more file bytes", file_gt_mem },
	{ "no load", "PT_LOAD", no_load },
};

TEST(broken_images_are_refused)
{
	struct pvh_image p;
	struct img m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = NULL;

		build(&m, 8);
		bad[i].mutate(&m);
		EXPECT_EQ(-1, pvh__parse(m.b, sizeof(m.b), &p, &err)) TH_LOG("%s: accepted", bad[i].name);
		ASSERT_NE(NULL, err);
		EXPECT_NE(NULL, strstr(err, bad[i].expect))
			TH_LOG("%s: '%s' lacks '%s'", bad[i].name, err, bad[i].expect);
		EXPECT_EQ(0, p.nseg);
	}
}

TEST(truncations_are_refused)
{
	struct pvh_image p;
	const char *err;
	struct img m;
	size_t n;

	build(&m, 8);
	for (n = 0; n < LOAD_OFF + 0x200; n += 7)
		EXPECT_EQ(-1, pvh__parse(m.b, n, &p, &err)) TH_LOG("%zu bytes accepted", n);
	EXPECT_EQ(-1, pvh__parse(NULL, 0, &p, &err));
}

TEST(debian_vmlinux)
{
	const char *path = getenv("KVL_VMLINUX");
	struct pvh_image p;
	const char *err = NULL;
	struct stat st;
	uint8_t *img;
	int fd, i;

	if (!path)
		SKIP(return, "KVL_VMLINUX not set");
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, img);
	ASSERT_EQ(0, pvh__parse(img, st.st_size, &p, &err)) TH_LOG("%s", err);
	/* Linux loads at 16 MiB (CONFIG_PHYSICAL_START); the entry is in .text. */
	EXPECT_EQ(0x1000000, p.seg[0].paddr);
	EXPECT_LT(p.seg[0].paddr, p.entry);
	EXPECT_GT(p.seg[0].paddr + p.seg[0].filesz, p.entry);
	for (i = 0; i < p.nseg; i++)
		TH_LOG("PT_LOAD 0x%llx +0x%llx (file 0x%llx)", (unsigned long long)p.seg[i].paddr,
		       (unsigned long long)p.seg[i].memsz, (unsigned long long)p.seg[i].filesz);
	TH_LOG("entry 0x%x, end 0x%llx", p.entry, (unsigned long long)p.end);
	munmap(img, st.st_size);
	close(fd);
}

TEST_HARNESS_MAIN
