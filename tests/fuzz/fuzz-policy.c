/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzer for the policy parser (policy_parse, policy_resolve, the option accessors)
 *
 * The input is the text of cgm.conf; a NUL byte in it starts a second file, parsed into the
 * same policy as a drop-in (cgm.conf.d/50-fuzz.conf) the way policy_load() reads them.
 *
 * Checked besides crashes: a refusal returns one of the documented codes with a message
 * that starts "FILE:LINE:" and is clean text (valid UTF-8, no control characters: the
 * message is logged and is the text of the Reload error sent over D-Bus, where libdbus
 * aborts on invalid UTF-8). An accepted policy holds only canonical values (key_parse()
 * gives them back unchanged), sources of the form FILE:LINE, yes/no booleans, in-range
 * numbers, and resolves for every user and group it names without duplicate keys.
 */

#include <errno.h>
#include <limits.h>

#include "fuzz-util.h"
#include "keys.h"
#include "policy.h"

#define CGM_POLICY_SECTIONS_MAX_FUZZ 256

static const char *const file_names[] = { "cgm.conf", "cgm.conf.d/50-fuzz.conf" };

static void check_source(const char *source)
{
        const char *colon = strrchr(source, ':');
        bool known = false;

        FUZZ_CHECK(colon && colon[1] >= '1' && colon[1] <= '9', "source `%s`", source);
        for (const char *d = colon + 1; *d; d++)
                FUZZ_CHECK(*d >= '0' && *d <= '9', "source `%s`", source);
        for (size_t i = 0; i < sizeof(file_names) / sizeof(file_names[0]); i++)
                known |= strncmp(source, file_names[i], (size_t)(colon - source)) == 0 &&
                         strlen(file_names[i]) == (size_t)(colon - source);
        FUZZ_CHECK(known, "source `%s` names no file read", source);
}

static void check_option(const PolicyOption *o)
{
        FUZZ_CHECK(strlen(o->value) < sizeof(o->value), "option value");
        if (strcmp(o->source, "default") != 0)
                check_source(o->source);
}

static void check_limits(const Policy *p, const PolicyLimits *l)
{
        FUZZ_CHECK(l->n <= sizeof(l->values) / sizeof(l->values[0]), "%zu limits", l->n);
        for (size_t i = 0; i < l->n; i++) {
                bool inside = false;

                for (size_t j = i + 1; j < l->n; j++)
                        FUZZ_CHECK(strcmp(l->values[i]->key, l->values[j]->key) != 0,
                                   "key `%s` resolved twice", l->values[i]->key);
                for (size_t s = 0; s < p->n_sections && !inside; s++)
                        inside = p->sections[s].n_values > 0 &&
                                 l->values[i] >= p->sections[s].values &&
                                 l->values[i] < p->sections[s].values + p->sections[s].n_values;
                FUZZ_CHECK(inside, "a resolved value points outside the policy");
                FUZZ_CHECK(strcmp(l->values[i]->key, "oom_notice") != 0,
                           "oom_notice resolved as a limit");
        }
        FUZZ_CHECK(l->oom_notice_source != NULL, "oom_notice without a source");
}

static void check_policy(const Policy *p)
{
        const PolicyOption *opts[] = { &p->base,
                                       &p->socket,
                                       &p->kill_on_logout,
                                       &p->kill_exempt,
                                       &p->linger,
                                       &p->home_grace_ms,
                                       &p->exclude,
                                       &p->admin_group,
                                       &p->max_cgroups_per_user,
                                       &p->requests_per_second,
                                       &p->creates_per_second,
                                       &p->connections_per_uid,
                                       &p->nss_timeout_ms,
                                       &p->oom_notice };
        const char *groups[CGM_POLICY_SECTIONS_MAX_FUZZ];
        size_t n_groups = 0;
        PolicyLimits lim;

        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
                check_option(opts[i]);
        FUZZ_CHECK(!strcmp(p->kill_on_logout.value, "yes") || !strcmp(p->kill_on_logout.value, "no"),
                   "kill_on_logout `%s`", p->kill_on_logout.value);
        FUZZ_CHECK(policy_uint(&p->max_cgroups_per_user) >= 1, "max_cgroups_per_user");
        FUZZ_CHECK(policy_uint(&p->requests_per_second) >= 1, "requests_per_second");
        FUZZ_CHECK(policy_uint(&p->creates_per_second) >= 1, "creates_per_second");
        FUZZ_CHECK(policy_uint(&p->connections_per_uid) >= 1, "connections_per_uid");
        FUZZ_CHECK(policy_uint(&p->nss_timeout_ms) >= 100, "nss_timeout_ms");
        FUZZ_CHECK(policy_uint(&p->home_grace_ms) <= 86400000, "home_grace_ms");
        FUZZ_CHECK(p->socket.value[0] == '/' && strlen(p->socket.value) < 108, "socket `%s`",
                   p->socket.value);
        FUZZ_CHECK(p->base.value[0] == '/' || !strncmp(p->base.value, "self:", 5), "base `%s`",
                   p->base.value);
        (void)policy_bool(&p->kill_on_logout);

        for (size_t s = 0; s < p->n_sections; s++) {
                const PolicySection *sec = &p->sections[s];

                check_source(sec->source);
                FUZZ_CHECK((sec->kind == POLICY_DEFAULT) == (sec->name[0] == '\0'),
                           "section name `%s`", sec->name);
                FUZZ_CHECK(sec->n_values <= 64, "%zu values in a section", sec->n_values);
                for (size_t v = 0; v < sec->n_values; v++) {
                        const PolicyValue *pv = &sec->values[v];
                        char canon[256], why[256];

                        check_source(pv->source);
                        if (strcmp(pv->key, "oom_notice") == 0) {
                                /* The one setting of a section that is not a resource key. */
                                FUZZ_CHECK(!strcmp(pv->value, "yes") || !strcmp(pv->value, "no"),
                                           "stored oom_notice `%s`", pv->value);
                        } else {
                                FUZZ_CHECK(key_parse(pv->key, pv->value, canon, sizeof(canon),
                                                     why, sizeof(why)) == 0,
                                           "stored `%s = %s` does not parse: %s", pv->key,
                                           pv->value, why);
                                FUZZ_CHECK(strcmp(canon, pv->value) == 0,
                                           "stored `%s = %s` is not canonical", pv->key,
                                           pv->value);
                        }
                        for (size_t w = v + 1; w < sec->n_values; w++)
                                FUZZ_CHECK(strcmp(pv->key, sec->values[w].key) != 0,
                                           "key `%s` twice in one section", pv->key);
                }
                if (sec->kind == POLICY_GROUP && n_groups < CGM_POLICY_SECTIONS_MAX_FUZZ)
                        groups[n_groups++] = sec->name;
        }
        /* Every user named by the policy, with every group it names. */
        policy_resolve(p, "nobody-in-particular", NULL, 0, &lim);
        check_limits(p, &lim);
        for (size_t s = 0; s < p->n_sections; s++) {
                const char *user = p->sections[s].name;

                if (p->sections[s].kind != POLICY_USER)
                        continue;
                policy_resolve(p, user, groups, n_groups, &lim);
                check_limits(p, &lim);
                (void)policy_list_has(&p->kill_exempt, user);
                (void)policy_list_has(&p->linger, user);
                (void)policy_list_has(&p->exclude, user);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nul;
        char *text[2];
        size_t len[2];
        Policy *p = NULL;
        CgmError e = CGM_ERROR_NULL;
        int r = 0;

        if (size > 64 * 1024)
                return 0;
        nul = memchr(data, '\0', size);
        len[0] = nul ? (size_t)(nul - data) : size;
        len[1] = nul ? size - len[0] - 1 : 0;
        text[0] = fuzz_strndup(data, len[0]);
        text[1] = nul ? fuzz_strndup(nul + 1, len[1]) : NULL;

        FUZZ_CHECK(policy_new(&p) == 0, "policy_new");
        for (size_t f = 0; f < 2 && text[f] && r == 0; f++) {
                char prefix[64];

                r = policy_parse(p, file_names[f], text[f], &e);
                if (r == 0)
                        continue;
                FUZZ_CHECK(r == -EINVAL || r == -E2BIG || r == -ENOMEM, "policy_parse returned %d",
                           r);
                FUZZ_CHECK(e.code == r, "error code %d for return %d", e.code, r);
                snprintf(prefix, sizeof(prefix), "%s:", file_names[f]);
                FUZZ_CHECK(strncmp(e.msg, prefix, strlen(prefix)) == 0,
                           "message `%s` does not start with `%s`", e.msg, prefix);
                FUZZ_CHECK(e.msg[strlen(prefix)] >= '1' && e.msg[strlen(prefix)] <= '9',
                           "message `%s` names no line", e.msg);
                FUZZ_CHECK(fuzz_text_clean(e.msg), "message is not clean text: `%s`", e.msg);
        }
        if (r == 0)
                check_policy(p);
        policy_free(p);
        free(text[0]);
        free(text[1]);
        return 0;
}
