#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# JSON checks for the selftests (sourced, not run).
#
#   sp_json_holds FILE EXPR    0 when FILE holds exactly one JSON document
#                              and the Python expression EXPR over it (d)
#                              is true; else 1, with "# " lines saying why
#                              on stdout (a parse error on stderr)

sp_json_holds() {
	python3 - "$1" "$2" <<'PYEOF'
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
if not eval(sys.argv[2]):
    print("# expression is false: " + sys.argv[2])
    print("# " + json.dumps(d)[:600])
    sys.exit(1)
PYEOF
}
