// SPDX-License-Identifier: GPL-2.0
/*
 * Parse a vmlinux for PVH boot with libelf: program headers for what to
 * load, PT_NOTE segments for the Xen note XEN_ELFNOTE_PHYS32_ENTRY (18),
 * whose descriptor is the 32-bit physical entry point (4 or 8 bytes; Linux
 * emits a pointer-sized one).  Every value read from the file is checked
 * before use; libelf is given its own copy of the bytes.
 */
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pvh.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18

bool pvh__is_elf(const uint8_t *img, size_t len)
{
	return len >= 4 && !memcmp(img, ELFMAG, SELFMAG);
}

static int fail(const char **err, const char *msg)
{
	*err = msg;
	return -1;
}

/* Look through one PT_NOTE segment for the entry note. */
static int find_entry(Elf *e, const GElf_Phdr *ph, uint64_t *entry, bool *found)
{
	Elf_Data *d = elf_getdata_rawchunk(e, ph->p_offset, ph->p_filesz, ELF_T_NHDR);
	size_t off = 0, name_off, desc_off, next;
	GElf_Nhdr nh;

	if (!d)
		return 0;	/* libelf could not read it: no note there */
	while (off < d->d_size && (next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    name_off + 4 <= d->d_size && !memcmp((char *)d->d_buf + name_off, "Xen", 4)) {
			const uint8_t *p = (const uint8_t *)d->d_buf + desc_off;
			uint64_t v = 0;
			int i;

			if ((nh.n_descsz != 4 && nh.n_descsz != 8) || desc_off + nh.n_descsz > d->d_size)
				return -1;
			for (i = nh.n_descsz - 1; i >= 0; i--)
				v = v << 8 | p[i];	/* x86: little endian */
			*entry = v;
			*found = true;
			return 0;
		}
		off = next;
	}
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct pvh_seg *x = a, *y = b;

	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

int pvh__parse_writable(uint8_t *img, size_t len, struct pvh_image *p, const char **err)
{
	uint64_t entry = 0;
	bool found = false, bad_note = false;
	const char *why = NULL;
	size_t nph = 0, i;
	GElf_Ehdr eh;
	Elf *e = NULL;
	int k;

	memset(p, 0, sizeof(*p));
	if (!img || !pvh__is_elf(img, len))
		return fail(err, "not an ELF file");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(err, "libelf unusable");
	e = elf_memory((char *)img, len);
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
		why = "not a readable ELF file";
		goto out;
	}
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386)) {
		why = "not an x86 ELF file";
		goto out;
	}
	if (eh.e_type != ET_EXEC) {
		why = "not an ELF executable";
		goto out;
	}
	if (elf_getphdrnum(e, &nph) || !nph) {
		why = "no program headers";
		goto out;
	}
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;
		struct pvh_seg *s;

		if (!gelf_getphdr(e, i, &ph)) {
			why = "unreadable program header";
			goto out;
		}
		if (ph.p_type == PT_NOTE) {
			if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
				why = "PT_NOTE beyond the end of the file";
				goto out;
			}
			if (!found && find_entry(e, &ph, &entry, &found))
				bad_note = true;
			continue;
		}
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (p->nseg == PVH_MAX_SEGS) {
			why = "more PT_LOAD segments than the loader takes (16)";
			goto out;
		}
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
			why = "PT_LOAD beyond the end of the file";
			goto out;
		}
		if (ph.p_filesz > ph.p_memsz) {
			why = "PT_LOAD with more file bytes than memory";
			goto out;
		}
		if (ph.p_paddr < PVH_LOAD_MIN || ph.p_paddr > PVH_LOAD_MAX ||
		    ph.p_memsz > PVH_LOAD_MAX - ph.p_paddr) {
			why = "PT_LOAD outside [1 MiB, 3 GiB)";
			goto out;
		}
		s = &p->seg[p->nseg++];
		s->paddr = ph.p_paddr;
		s->offset = ph.p_offset;
		s->filesz = ph.p_filesz;
		s->memsz = ph.p_memsz;
	}
	if (bad_note) {
		why = "PHYS32_ENTRY note with a bad descriptor size";
		goto out;
	}
	if (!found) {
		why = "no XEN_ELFNOTE_PHYS32_ENTRY note: the kernel lacks PVH (CONFIG_PVH)";
		goto out;
	}
	if (!p->nseg) {
		why = "no PT_LOAD segments";
		goto out;
	}
	qsort(p->seg, p->nseg, sizeof(p->seg[0]), cmp_seg);
	for (k = 0; k < p->nseg; k++) {
		const struct pvh_seg *s = &p->seg[k];

		if (k && s->paddr < p->seg[k - 1].paddr + p->seg[k - 1].memsz) {
			why = "PT_LOAD segments overlap";
			goto out;
		}
		if (entry >= s->paddr && entry < s->paddr + s->memsz && entry < s->paddr + s->filesz)
			p->entry = (uint32_t)entry;
		p->end = s->paddr + s->memsz;
	}
	if (!p->entry)
		why = "the PVH entry point is outside the loaded bytes";
out:
	if (e)
		elf_end(e);
	if (why) {
		memset(p, 0, sizeof(*p));
		return fail(err, why);
	}
	return 0;
}

int pvh__parse(const uint8_t *img, size_t len, struct pvh_image *p, const char **err)
{
	uint8_t *copy;
	int r;

	memset(p, 0, sizeof(*p));
	if (!img || !pvh__is_elf(img, len))
		return fail(err, "not an ELF file");
	/*
	 * A mapping of its own, not malloc(): glibc would keep a freed heap
	 * chunk this large resident.
	 */
	copy = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy == MAP_FAILED)
		return fail(err, "out of memory");
	memcpy(copy, img, len);
	r = pvh__parse_writable(copy, len, p, err);
	munmap(copy, len);
	return r;
}
