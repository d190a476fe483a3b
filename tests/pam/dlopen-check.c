/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dlopen-check: pam_cgm.so loads with RTLD_NOW and exports exactly the two session hooks */

/*
 * Linux-PAM loads modules with dlopen(RTLD_NOW), so an unresolved symbol would only show at the
 * first login; loading it here catches that at build time. The export check reads the ELF
 * dynamic symbol table from the file: every defined, globally visible symbol must be one of
 * the two hooks, so neither the private libcgm copy nor the common library leaks out to clash
 * with the application's own symbols. The module must also stay loaded after dlclose():
 * libpam unloads modules at every pam_end(), and unloading libdbus with them would lose its
 * process-wide caches each time (and run its constructors again at the next login). Output is TAP. The module comes from argv[1], else
 * $PAM_CGM_MODULE, else the path the build compiled in.
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

/* Count defined, exported symbols; print the unexpected ones. -1 when the file is not ELF. */
static int exported(const char *path, int *n_hooksp)
{
        const ElfW(Ehdr) *eh;
        const ElfW(Shdr) *sh;
        struct stat st;
        void *map;
        int fd, n = 0;

        *n_hooksp = 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(*eh))
                return -1;
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED)
                return -1;
        eh = map;
        if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shoff == 0 ||
            eh->e_shoff + (size_t)eh->e_shnum * sizeof(*sh) > (size_t)st.st_size) {
                munmap(map, (size_t)st.st_size);
                return -1;
        }
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
        munmap(map, (size_t)st.st_size);
        return n;
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

        h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
        ok(h != NULL, "dlopen(RTLD_NOW) resolves every symbol", h ? NULL : dlerror());
        if (h) {
                for (size_t k = 0; k < sizeof(hooks) / sizeof(hooks[0]); k++)
                        ok(dlsym(h, hooks[k]) != NULL, "the hook is exported", hooks[k]);
                ok(dlsym(h, "pam_sm_authenticate") == NULL, "no other PAM hook",
                   "pam_sm_authenticate");
                ok(dlsym(h, "cgm_connect") == NULL, "the private libcgm stays hidden",
                   "cgm_connect");
                dlclose(h);
                h = dlopen(module, RTLD_NOW | RTLD_NOLOAD);
                ok(h != NULL, "dlclose() leaves it loaded (-z nodelete)", NULL);
                if (h)
                        dlclose(h);
        }
        n = exported(module, &n_hooks);
        ok(n == 2 && n_hooks == 2, "the dynamic symbol table exports exactly the two hooks",
           n < 0 ? "not an ELF file" : NULL);
        printf("1..%d\n", n_tests);
        return n_failed ? 1 : 0;
}
