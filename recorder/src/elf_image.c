/* Reads the symbols, sections and load segment attach needs from an ELF64 file on disk. */
/* SPDX-License-Identifier: MIT */
#include "elf_image_internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pyi/errors.h"

/* ---- Internal --------------------------------------------------------- */

#define MAX_SECTIONS 65535u
#define MAX_TABLE_BYTES (256u << 20) /* symbol or string tables larger than this are refused */
#define SYMBOLS_PER_READ 2048u
#define PAGE_SIZE_ASSUMED 4096u      /* mapping offsets are page multiples */

/* [offset, offset + size) lies inside the file (no wrap-around). */
static int inside_file(const pyi_elf_image *e, uint64_t offset, uint64_t size)
{
    return offset <= e->file_size && size <= e->file_size - offset;
}

static int headers_load(pyi_elf_image *e, Elf64_Ehdr *h, char *msg, size_t msg_size)
{
    if (pyi_elf_read(e, 0, h, sizeof *h) != 0 || memcmp(h->e_ident, ELFMAG, SELFMAG) != 0) {
        snprintf(msg, msg_size, "not an ELF file");
        return PYI_E_UNSUPPORTED;
    }
    if (h->e_ident[EI_CLASS] != ELFCLASS64 || h->e_ident[EI_DATA] != ELFDATA2LSB) {
        snprintf(msg, msg_size, "not a 64-bit little-endian ELF file");
        return PYI_E_UNSUPPORTED;
    }
    e->is_shared = h->e_type == ET_DYN;
    if (h->e_phentsize != sizeof(Elf64_Phdr) ||
        !inside_file(e, h->e_phoff, (uint64_t)h->e_phnum * sizeof(Elf64_Phdr)) ||
        (h->e_shnum != 0 && (h->e_shentsize != sizeof(Elf64_Shdr) ||
                             !inside_file(e, h->e_shoff,
                                          (uint64_t)h->e_shnum * sizeof(Elf64_Shdr))))) {
        snprintf(msg, msg_size, "ELF headers point outside the file");
        return PYI_E_CORRUPT;
    }
    return 0;
}

static int first_load_find(pyi_elf_image *e, const Elf64_Ehdr *h, char *msg, size_t msg_size)
{
    for (uint16_t i = 0; i < h->e_phnum; i++) {
        Elf64_Phdr p;
        if (pyi_elf_read(e, h->e_phoff + (uint64_t)i * sizeof p, &p, sizeof p) != 0)
            break;
        if (p.p_type == PT_LOAD) {
            e->load_vaddr = p.p_vaddr & ~(uint64_t)(PAGE_SIZE_ASSUMED - 1);
            e->load_offset = p.p_offset & ~(uint64_t)(PAGE_SIZE_ASSUMED - 1);
            return 0;
        }
    }
    snprintf(msg, msg_size, "no loadable segment");
    return PYI_E_CORRUPT;
}

static pyi_elf_range range_of(const pyi_elf_image *e, const Elf64_Shdr *s)
{
    pyi_elf_range r = {s->sh_offset, s->sh_size, s->sh_addr};
    if (s->sh_type == SHT_NOBITS)
        r.offset = UINT64_MAX; /* .bss-like: no bytes in the file */
    else if (!inside_file(e, r.offset, r.size))
        r.size = 0;
    return r;
}

/* The section's name (at most size - 1 bytes of it; "" when unreadable). */
static void section_name(const pyi_elf_image *e, const Elf64_Shdr *names, uint32_t at,
                         char *out, size_t size)
{
    uint64_t offset = names->sh_offset + at;
    size_t length = size - 1;
    out[0] = '\0';
    if (at >= names->sh_size || !inside_file(e, offset, 1))
        return;
    if (e->file_size - offset < length)
        length = (size_t)(e->file_size - offset);
    if (pyi_elf_read(e, offset, out, length) == 0)
        out[length] = '\0';
    else
        out[0] = '\0';
}

/* Finds .dynsym/.dynstr, .symtab/.strtab, .PyRuntime and .rodata. */
static int sections_find(pyi_elf_image *e, const Elf64_Ehdr *h)
{
    if (h->e_shnum == 0 || h->e_shstrndx >= h->e_shnum)
        return 0; /* stripped of section headers: no symbols, which the caller reports */
    Elf64_Shdr *sections = malloc((size_t)h->e_shnum * sizeof *sections);
    if (sections == NULL)
        return PYI_E_NOMEM;
    int rc = pyi_elf_read(e, h->e_shoff, sections, (size_t)h->e_shnum * sizeof *sections);
    const Elf64_Shdr *names = &sections[h->e_shstrndx];
    for (uint16_t i = 0; rc == 0 && i < h->e_shnum; i++) {
        const Elf64_Shdr *s = &sections[i];
        char name[16];
        section_name(e, names, s->sh_name, name, sizeof name);
        if ((s->sh_type == SHT_DYNSYM || s->sh_type == SHT_SYMTAB) && s->sh_link < h->e_shnum) {
            pyi_elf_range *table = s->sh_type == SHT_DYNSYM ? &e->dynsym : &e->symtab;
            pyi_elf_range *strings = s->sh_type == SHT_DYNSYM ? &e->dynstr : &e->strtab;
            *table = range_of(e, s);
            *strings = range_of(e, &sections[s->sh_link]);
        } else if (strcmp(name, ".PyRuntime") == 0) {
            e->pyruntime = range_of(e, s);
        } else if (strcmp(name, ".rodata") == 0) {
            e->rodata = range_of(e, s);
        }
    }
    free(sections);
    return rc == 0 ? 0 : PYI_E_CORRUPT;
}

/* Looks the names up in one symbol table; fills values[i] still 0. */
static int table_search(const pyi_elf_image *e, const pyi_elf_range *symbols,
                        const pyi_elf_range *strings, const char *const *names, size_t count,
                        uint64_t *values)
{
    if (symbols->size == 0 || strings->size == 0 || symbols->size > MAX_TABLE_BYTES ||
        strings->size > MAX_TABLE_BYTES || strings->offset == UINT64_MAX)
        return 0;
    char *text = malloc(strings->size + 1);
    Elf64_Sym *block = malloc(SYMBOLS_PER_READ * sizeof *block);
    int rc = text && block ? 0 : PYI_E_NOMEM;
    if (rc == 0 && pyi_elf_read(e, strings->offset, text, strings->size) != 0)
        rc = PYI_E_CORRUPT;
    if (text != NULL)
        text[strings->size] = '\0';
    uint64_t total = symbols->size / sizeof(Elf64_Sym);
    for (uint64_t first = 0; rc == 0 && first < total; first += SYMBOLS_PER_READ) {
        size_t n = total - first < SYMBOLS_PER_READ ? (size_t)(total - first) : SYMBOLS_PER_READ;
        if (pyi_elf_read(e, symbols->offset + first * sizeof(Elf64_Sym), block,
                         n * sizeof *block) != 0) {
            rc = PYI_E_CORRUPT;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (block[i].st_name >= strings->size || block[i].st_shndx == SHN_UNDEF)
                continue;
            const char *name = text + block[i].st_name;
            for (size_t k = 0; k < count; k++)
                if (values[k] == 0 && strcmp(name, names[k]) == 0)
                    values[k] = block[i].st_value;
        }
    }
    free(text);
    free(block);
    return rc;
}

/* ---- Public (to recorder/) -------------------------------------------- */

int pyi_elf_open(pyi_elf_image *e, const char *path, int *error_number, char *msg,
                 size_t msg_size)
{
    memset(e, 0, sizeof *e);
    *error_number = 0;
    e->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (e->fd < 0 || fstat(e->fd, &st) != 0) {
        *error_number = errno;
        snprintf(msg, msg_size, "cannot open %s: %s", path, strerror(errno));
        pyi_elf_close(e);
        return PYI_E_IO;
    }
    e->file_size = (uint64_t)st.st_size;
    e->inode = (uint64_t)st.st_ino;
    Elf64_Ehdr h;
    int rc = headers_load(e, &h, msg, msg_size);
    if (rc == 0)
        rc = first_load_find(e, &h, msg, msg_size);
    if (rc == 0 && (rc = sections_find(e, &h)) != 0)
        snprintf(msg, msg_size, "cannot read the section headers of %s", path);
    if (rc != 0)
        pyi_elf_close(e);
    return rc;
}

void pyi_elf_close(pyi_elf_image *e)
{
    if (e->fd >= 0)
        close(e->fd);
    e->fd = -1;
}

int pyi_elf_find_symbols(const pyi_elf_image *e, const char *const *names, size_t count,
                         uint64_t *values)
{
    memset(values, 0, count * sizeof *values);
    int rc = table_search(e, &e->dynsym, &e->dynstr, names, count, values);
    if (rc == 0)
        rc = table_search(e, &e->symtab, &e->strtab, names, count, values);
    if (rc != 0)
        return rc;
    int found = 0;
    for (size_t k = 0; k < count; k++)
        found += values[k] != 0;
    return found;
}

int pyi_elf_read(const pyi_elf_image *e, uint64_t offset, void *dst, size_t size)
{
    if (!inside_file(e, offset, size))
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(e->fd, (char *)dst + done, size - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

uint64_t pyi_elf_address_offset(const pyi_elf_image *e, const pyi_elf_range *section,
                                uint64_t address, uint64_t size)
{
    if (section->size == 0 || section->offset == UINT64_MAX || address < section->address ||
        address - section->address > section->size ||
        size > section->size - (address - section->address))
        return UINT64_MAX;
    uint64_t offset = section->offset + (address - section->address);
    return inside_file(e, offset, size) ? offset : UINT64_MAX;
}
