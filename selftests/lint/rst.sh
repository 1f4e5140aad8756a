#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every page of Documentation/ parses with docutils without a warning
# (a broken list or table renders wrong in the kernel's Sphinx too).
. "$SP_TOP/selftests/lib/ktap.sh"

# The first python3 on PATH, or Debian's, where python3-docutils goes.
py=""
for p in python3 /usr/bin/python3; do
	"$p" -c 'import docutils.core' 2> /dev/null && { py=$p; break; }
done
[ -n "$py" ] || sp_die "python3-docutils is missing: run 'make deps'"
mapfile -t files < <(cd "$SP_TOP" && ls Documentation/*.rst)
ktap_header
ktap_plan ${#files[@]}
for f in "${files[@]}"; do
	if out=$(cd "$SP_TOP" && "$py" - "$f" 2>&1 <<'PY'
import sys
import docutils.core
path = sys.argv[1]
with open(path, encoding="utf-8") as src:
    docutils.core.publish_doctree(
        src.read(), source_path=path,
        settings_overrides={"halt_level": 2, "report_level": 2})
PY
	); then
		ktap_ok "$f"
	else
		printf '%s\n' "$out" | tail -n 3 | sed 's/^/# /'
		ktap_fail "$f"
	fi
done
ktap_finish
