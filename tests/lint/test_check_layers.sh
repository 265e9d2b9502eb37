#!/bin/sh
# test_check_layers.sh: runs check_layers.sh on small fake trees, one per
# case, and checks both its exit status and the line it prints, so the
# checker cannot rot into passing everything. Prints ok/FAIL per case;
# exits 1 if any case failed.

set -u
check=$(cd "$(dirname "$0")" && pwd)/check_layers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
failed=0

# put PATH LINE...: writes the lines to PATH in the current case's tree.
put() {
	f=$tree/$1; shift
	mkdir -p "${f%/*}"
	printf '%s\n' "$@" > "$f"
}

# The clean tree every case starts from; it uses the spellings the
# checker must accept (spaces after #, comments after the include, <...>
# and #include_next, bare same-room and shared includes).
clean_tree() {
	tree=$tmp/clean
	put shared/mk_util.h '#include <stdio.h>'
	put shared/mk_util.c '#include "mk_util.h"'
	put supervisor/base/strv.h '#include "mk_util.h"'
	put supervisor/base/strv.c '#  include "strv.h" /* own header */'
	put supervisor/image/store.h '#include "base/strv.h" // cross-room'
	put supervisor/image/store.c '#include "store.h"' '#include_next <seccomp.h>'
	put supervisor/engine/container.h '#	include "image/store.h"'
	put supervisor/engine/container.c '#include "container.h"' '#include "mk_util.h"'
	put init/passwd.h '#include "mk_util.h"'
	put init/main.c '#include "passwd.h"'
}

# new_tree NAME: a copy of the clean tree for case NAME.
new_tree() {
	tree=$tmp/$1
	cp -R "$tmp/clean" "$tree"
}

# expect NAME STATUS LINE: runs the checker on the case's tree and wants
# exit STATUS and LINE (exactly, once) in its output.
expect() {
	out=$(sh "$check" "$tmp/$1" 2>&1)
	rc=$?
	if [ "$rc" = "$2" ] && [ "$(printf '%s\n' "$out" | grep -cxF -- "$3")" = 1 ]; then
		echo "ok   $1"
	else
		echo "FAIL $1: want exit $2 and line: $3"
		echo "     got exit $rc and:"; printf '%s\n' "$out" | sed 's/^/       /'
		failed=1
	fi
}

clean_tree
expect clean 0 'layers: 10 files, 0 problems'

new_tree upward
put supervisor/image/pull.c '#include "pull.h"' '#include "engine/container.h"'
put supervisor/image/pull.h ''
expect upward 1 'supervisor/image/pull.c:2: image may not include engine/container.h (image may use: base, shared)'

new_tree bare-other-room
put supervisor/engine/run.c '#include "mk_util.h"' '#include "strv.h"'
expect bare-other-room 1 'supervisor/engine/run.c:2: bare include "strv.h" is not in supervisor/engine/ or shared/: name its room'

new_tree cycle
put supervisor/image/load.h '#include "store.h"'
put supervisor/image/load.c '#include "load.h"'
put supervisor/image/store.c '#include "store.h"' '#include "load.h"'
expect cycle 1 'include cycle: image/load -> image/store -> image/load'

new_tree loose-file
put supervisor/stray.c '#include "mk_util.h"'
expect loose-file 1 'supervisor/stray.c: not in a room folder'

new_tree unknown-room
put supervisor/gadgets/main.c '#include "mk_util.h"'
expect unknown-room 1 'supervisor/gadgets/main.c: not in a room folder'

new_tree shared-up
put shared/mk_state.h '#include "engine/container.h"'
expect shared-up 1 'shared/mk_state.h:1: shared may not include engine/container.h (shared may use: no other room)'

new_tree missing
put supervisor/image/save.c '#include "mk_util.h"' '' '#include "image/nope.h"'
expect missing 1 'supervisor/image/save.c:3: includes missing header image/nope.h'

exit "$failed"
