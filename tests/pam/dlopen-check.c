/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dlopen-check: pam_cgm.so loads with RTLD_NOW and exports exactly the two session hooks */

/*
 * Linux-PAM loads modules with dlopen(RTLD_NOW), so an unresolved symbol would only show at the
 * first login; loading it here catches that at build time. The export check reads the ELF
 * dynamic symbol table from the file: every defined, globally visible symbol must be one of
 * the two hooks, so neither the private D-Bus client (client/wire.c) nor the common library
 * leaks out to clash with the application's own symbols. The module is loaded into every login
 * process, so what it links is checked too: its NEEDED entries are libc and libpam only (plus
 * the sanitizer runtimes in a sanitizer build), and loading it maps no libdbus, libsystemd or
 * libgcrypt (/proc/self/maps). It keeps no state between hooks, so it is not -z nodelete any
 * more: dlclose() unloads it, as libpam's pam_end() expects. Output is TAP. The module comes
 * from argv[1], else $PAM_CGM_MODULE, else the path the build compiled in.
 */

#undef NDEBUG

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PAM_CGM_MODULE
#define PAM_CGM_MODULE "pam_cgm/.libs/pam_cgm.so"
#endif

static const char *const hooks[] = { "pam_sm_open_session", "pam_sm_close_session" };

static int n_tests;
static int n_failed;

static void ok(bool cond, const char *what, const char *detail)
{
        printf("%sok %d - %s%s%s\n", cond ? "" : "not ", ++n_tests, what, detail ? ": " : "",
               detail ? detail : "");
        if (!cond)
                n_failed++;
}

/* Map the ELF file @path read-only, after checking its section headers lie within it.
 * Return: the mapping (munmap(map, *@sizep) when done), or NULL when the file is not ELF. */
static void *elf_map(const char *path, size_t *sizep)
{
        const ElfW(Ehdr) *eh;
        struct stat st;
        void *map;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return NULL;
        if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(*eh)) {
                close(fd);
                return NULL;
        }
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED)
                return NULL;
        eh = map;
        if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shoff == 0 ||
            eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > (size_t)st.st_size) {
                munmap(map, (size_t)st.st_size);
                return NULL;
        }
        *sizep = (size_t)st.st_size;
        return map;
}

/* Count defined, exported symbols; print the unexpected ones. -1 when the file is not ELF. */
static int exported(const char *path, int *n_hooksp)
{
        const ElfW(Ehdr) *eh;
        const ElfW(Shdr) *sh;
        size_t size;
        void *map;
        int n = 0;

        *n_hooksp = 0;
        map = elf_map(path, &size);
        if (!map)
                return -1;
        eh = map;
        sh = (const ElfW(Shdr) *)((const char *)map + eh->e_shoff);
        for (int i = 0; i < eh->e_shnum; i++) {
                const ElfW(Sym) *sym;
                const char *strtab;
                size_t count;

                if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
                        continue;
                sym = (const ElfW(Sym) *)((const char *)map + sh[i].sh_offset);
                strtab = (const char *)map + sh[sh[i].sh_link].sh_offset;
                count = sh[i].sh_size / sizeof(*sym);
                for (size_t j = 1; j < count; j++) {
                        unsigned bind = ELF64_ST_BIND(sym[j].st_info);
                        const char *name = strtab + sym[j].st_name;
                        bool hook = false;

                        if (sym[j].st_shndx == SHN_UNDEF ||
                            (bind != STB_GLOBAL && bind != STB_WEAK) ||
                            ELF64_ST_VISIBILITY(sym[j].st_other) != STV_DEFAULT)
                                continue;
                        for (size_t k = 0; k < sizeof(hooks) / sizeof(hooks[0]); k++)
                                hook = hook || strcmp(name, hooks[k]) == 0;
                        if (hook)
                                (*n_hooksp)++;
                        else
                                printf("# unexpected export: %s\n", name);
                        n++;
                }
        }
        munmap(map, size);
        return n;
}

/* Libraries a login process must not get from the module. */
static const char *const unwanted[] = { "libdbus-1", "libsystemd", "libgcrypt", "liblz4",
                                        "libzstd", "liblzma", "libgpg-error" };

static bool needed_allowed(const char *name)
{
        static const char *const allowed[] = { "libc.so.", "libpam.so.", "libasan.so.",
                                               "libubsan.so.", "ld-linux" };

        for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
                if (strncmp(name, allowed[k], strlen(allowed[k])) == 0)
                        return true;
        return false;
}

/* Count the NEEDED entries that are not allowed; print them. -1 when the file is not ELF. */
static int needed_unexpected(const char *path, int *n_neededp)
{
        const ElfW(Ehdr) *eh;
        const ElfW(Shdr) *sh;
        size_t size;
        void *map;
        int n = 0;

        *n_neededp = 0;
        map = elf_map(path, &size);
        if (!map)
                return -1;
        eh = map;
        sh = (const ElfW(Shdr) *)((const char *)map + eh->e_shoff);
        for (int i = 0; i < eh->e_shnum; i++) {
                const ElfW(Dyn) *dyn;
                const char *strtab;

                if (sh[i].sh_type != SHT_DYNAMIC || sh[i].sh_link >= eh->e_shnum)
                        continue;
                dyn = (const ElfW(Dyn) *)((const char *)map + sh[i].sh_offset);
                strtab = (const char *)map + sh[sh[i].sh_link].sh_offset;
                for (size_t j = 0; j < sh[i].sh_size / sizeof(*dyn) && dyn[j].d_tag != DT_NULL;
                     j++) {
                        const char *name;

                        if (dyn[j].d_tag != DT_NEEDED)
                                continue;
                        name = strtab + dyn[j].d_un.d_val;
                        (*n_neededp)++;
                        if (!needed_allowed(name)) {
                                printf("# unexpected NEEDED: %s\n", name);
                                n++;
                        }
                }
        }
        munmap(map, size);
        return n;
}

/* The first unwanted library mapped into this process, or NULL. */
static const char *maps_unwanted(char *found, size_t size)
{
        FILE *f = fopen("/proc/self/maps", "re");
        char line[4096];
        const char *r = NULL;

        if (!f)
                return "cannot read /proc/self/maps";
        while (!r && fgets(line, sizeof(line), f))
                for (size_t k = 0; k < sizeof(unwanted) / sizeof(unwanted[0]); k++)
                        if (strstr(line, unwanted[k])) {
                                snprintf(found, size, "%s", unwanted[k]);
                                r = found;
                                break;
                        }
        fclose(f);
        return r;
}

int main(int argc, char **argv)
{
        const char *module = argc > 1 ? argv[1] : getenv("PAM_CGM_MODULE");
        void *h;
        int n, n_hooks;

        if (!module || !module[0])
                module = PAM_CGM_MODULE;
        if (access(module, R_OK) < 0) {
                printf("1..0 # SKIP %s: %s\n", module, strerror(errno));
                return 77;
        }

        {
                char found[64];

                ok(maps_unwanted(found, sizeof(found)) == NULL,
                   "this test itself maps no libdbus (else the next check means nothing)",
                   maps_unwanted(found, sizeof(found)));
        }
        h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
        ok(h != NULL, "dlopen(RTLD_NOW) resolves every symbol", h ? NULL : dlerror());
        if (h) {
                char found[64];

                ok(maps_unwanted(found, sizeof(found)) == NULL,
                   "loading it maps no libdbus, libsystemd, libgcrypt, compression library",
                   maps_unwanted(found, sizeof(found)));
                for (size_t k = 0; k < sizeof(hooks) / sizeof(hooks[0]); k++)
                        ok(dlsym(h, hooks[k]) != NULL, "the hook is exported", hooks[k]);
                ok(dlsym(h, "pam_sm_authenticate") == NULL, "no other PAM hook",
                   "pam_sm_authenticate");
                ok(dlsym(h, "cgm_wire_connect") == NULL, "the private D-Bus client stays hidden",
                   "cgm_wire_connect");
                ok(dlsym(h, "cgm_error_name_to_errno") == NULL,
                   "the common library stays hidden", "cgm_error_name_to_errno");
                dlclose(h);
                h = dlopen(module, RTLD_NOW | RTLD_NOLOAD);
                ok(h == NULL, "dlclose() unloads it (no -z nodelete, no state to keep)", NULL);
                if (h)
                        dlclose(h);
        }
        {
                int n_needed, bad = needed_unexpected(module, &n_needed);

                ok(bad == 0 && n_needed >= 2,
                   "NEEDED lists libc and libpam only (no libdbus, no libcgm)",
                   bad < 0 ? "not an ELF file" : NULL);
        }
        n = exported(module, &n_hooks);
        ok(n == 2 && n_hooks == 2, "the dynamic symbol table exports exactly the two hooks",
           n < 0 ? "not an ELF file" : NULL);
        printf("1..%d\n", n_tests);
        return n_failed ? 1 : 0;
}
