# SPDX-License-Identifier: GPL-2.0
#
# The objects of the pool metadata v3 library (md3.c and md3-*.c; md3.c's
# head comment says which file holds what), listed once for every build
# that compiles it: the module (Kbuild), libspu for the slicepool tool
# (tools/lib/Makefile) and the crash simulator (the top Makefile's unit).
MD3_OBJS := md3.o md3-record.o md3-apply.o md3-journal.o md3-commit.o \
	    md3-assemble.o md3-member.o md3-volume.o
# The headers they include (md3-int.h: internal to the library)
MD3_HDRS := md3.h md3-int.h md3-format.h md3-port.h
