/* Private to recorder/: the few facts attach needs from an ELF file (symbols, sections, load base). */
/* SPDX-License-Identifier: MIT */
/*
 * To find _PyRuntime in another process, attach reads the ELF file of the
 * executable or libpython from disk (through /proc/PID/root, so files inside
 * a container resolve): the dynamic symbols `_PyRuntime`, `Py_Version`,
 * `PyCode_Type`, the `.PyRuntime` section, and the first PT_LOAD segment,
 * which relates file addresses to where the file is mapped. ELF64
 * little-endian only (x86_64, aarch64). The file is untrusted input: every
 * offset and size is checked against the file's size.
 */
#ifndef PYI_ELF_IMAGE_INTERNAL_H
#define PYI_ELF_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pyi_elf_range {
    uint64_t offset;  /* in the file */
    uint64_t size;    /* bytes; 0 = absent */
    uint64_t address; /* sh_addr (sections) */
} pyi_elf_range;

typedef struct pyi_elf_image {
    int fd;
    uint64_t file_size;
    uint64_t inode;            /* of the opened file, to compare with the maps */
    int is_shared;             /* ET_DYN (a library or a PIE executable) */
    uint64_t load_vaddr;       /* first PT_LOAD's p_vaddr, page-aligned down */
    uint64_t load_offset;      /* its p_offset, page-aligned down */
    pyi_elf_range dynsym, dynstr, symtab, strtab, pyruntime, rodata;
} pyi_elf_image;

/*
 * Opens and checks an ELF file. Returns 0, or with a message: PYI_E_IO
 * (cannot open or read it; the errno in *error_number), PYI_E_UNSUPPORTED
 * (not an ELF64 little-endian file), PYI_E_CORRUPT (headers outside the
 * file).
 */
int pyi_elf_open(pyi_elf_image *e, const char *path, int *error_number, char *msg,
                 size_t msg_size);
void pyi_elf_close(pyi_elf_image *e);

/*
 * Looks up symbols by name in .dynsym, then .symtab. values[i] gets the
 * symbol's st_value (a file address) or 0 when names[i] is not defined.
 * Returns how many were found, or a negative pyi_error.
 */
int pyi_elf_find_symbols(const pyi_elf_image *e, const char *const *names, size_t count,
                         uint64_t *values);

/* Reads size bytes at a file offset; 0 or -1. */
int pyi_elf_read(const pyi_elf_image *e, uint64_t offset, void *dst, size_t size);

/* The file offset of a file address inside a section, or UINT64_MAX. */
uint64_t pyi_elf_address_offset(const pyi_elf_image *e, const pyi_elf_range *section,
                                uint64_t address, uint64_t size);

#ifdef __cplusplus
}
#endif

#endif /* PYI_ELF_IMAGE_INTERNAL_H */
