#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The slicepool tool's host tests (tools/slicepool/tests): argument
# parsing and errors, JSON output, crc32c, superblock parsing of crafted
# images.  Everything that needs the kernel is in selftests/cli.
make -s -C "$SP_TOP/tools/slicepool" all || { echo "# cannot build the tool"; exit 1; }
cd "$SP_TOP/tools/slicepool" && exec tests/run-tests.sh
