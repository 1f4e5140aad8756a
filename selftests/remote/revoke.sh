#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of revocation and leases: the lender's states, the
# borrower's authorisation, the control socket (selftests/remote/revoke_test.c).
# Built by 'make unit'.
bin=$SP_TOP/build/remote/revoke_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
