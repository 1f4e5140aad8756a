#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every source file and script carries an SPDX line near its top.
. "$SP_TOP/selftests/lib/ktap.sh"
. "$SP_TOP/selftests/lint/files.sh"

mapfile -t files < <({ sp_c_files; sp_shell_files; } | sort -u)
ktap_header
ktap_plan ${#files[@]}
for f in "${files[@]}"; do
	ktap_check "$f" grep -q 'SPDX-License-Identifier: GPL-2.0' <(head -n 3 "$SP_TOP/$f")
done
ktap_finish
