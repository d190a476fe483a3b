# SPDX-License-Identifier: LGPL-2.1-or-later
# Documentation: the man pages are installed (section from the file name's suffix); the design,
# API and security notes are shipped in the tarball only.
dist_man_MANS += \
	docs/man/cgmd.8 \
	docs/man/cgm.1 \
	docs/man/libcgm.3 \
	docs/man/cgm.conf.5

EXTRA_DIST += \
	docs/design.md \
	docs/api.md \
	docs/security.md \
	docs/fuzzing.md
