#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of DH-HMAC-CHAP: the secrets, the target and host probes
# against a fake nvmet and nvme-fabrics, the lender's export and nvme
# connect (selftests/remote/dhchap_test.c).  Built by 'make unit'.
bin=$SP_TOP/build/remote/dhchap_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
