#!/bin/bash
# One check of the VM test stage: prints its output from the guest's log and passes when the
# guest recorded "RESULT NAME PASS". Run by ctest after vm-boot (tests/vm/run.sh).
#   NOOK_VM_WORK=build/vm bash tests/vm/result.sh root-limits-nook
set -u
name=$1
out=${NOOK_VM_WORK:?}/share/out
if [[ ! -f $out/log.txt ]]; then
  echo "SKIP: the VM stage did not run (see the vm-boot test)"
  exit 77
fi
sed -n "/^----- BEGIN $name\$/,/^----- END $name /p" "$out/log.txt"
if grep -qx "RESULT $name PASS [0-9.]*" "$out/results.txt" 2>/dev/null; then exit 0; fi
grep -q "^RESULT $name " "$out/results.txt" 2>/dev/null || echo "no result for $name in $out/results.txt"
exit 1
