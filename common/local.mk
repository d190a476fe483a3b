# SPDX-License-Identifier: LGPL-2.1-or-later
noinst_LTLIBRARIES += common/libcgmcommon.la
common_libcgmcommon_la_SOURCES = \
	common/cleanup.h \
	common/protocol.h \
	common/error.h \
	common/error.c \
	common/connect.h \
	common/connect.c \
	common/name.h \
	common/name.c \
	common/units.h \
	common/units.c \
	common/text.h \
	common/text.c \
	common/utf8.h \
	common/utf8.c \
	common/keys.h \
	common/keys.c \
	common/mountinfo.h \
	common/mountinfo.c \
	common/cgread.h \
	common/cgread.c \
	common/policy.h \
	common/policy.c
