#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Power cut during format, create, expand, shrink and delete, on a pool of
# metadata format 2: the scenario of powercut_lib.sh.
. "$(dirname "$0")/powercut_lib.sh"
powercut_run 2 "$@"
