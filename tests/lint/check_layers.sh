#!/bin/sh
# check_layers.sh [ROOT]: checks the #include "..." lines of ROOT/supervisor,
# ROOT/shared and ROOT/init (ROOT defaults to .) against the rule below.
# Prints a `path:line: problem` line per problem, then `layers: N files,
# M problems`; exits 1 if there were any, 2 if ROOT has no supervisor/.
#
# THE RULE. supervisor/ is split into rooms, one folder each. A room may
# include its own headers, shared/ headers, and those of the rooms listed
# after it; nothing else. (This table is the single source of truth.)
RULES='
main       cli oci base
cli        engine image net isolation base
oci        engine image net isolation base
monitor    engine isolation base
engine     image net isolation base
image      base
net        base
isolation  base
base
'
# main/ holds the program entry, which picks a front by argv[0]. The
# fronts, cli/ (Docker's CLI) and oci/ (runc's), never list each other,
# so they cannot include each other.
# Besides the rooms: shared/ (linked into every binary) includes only
# shared/; init/ (the static PID 1) includes only init/ and shared/.
#
# Spelling (the compiler runs with -Ishared -Iinit -Isupervisor): a header
# of the same room or of shared/ is included bare ("store.h"), another
# room's header by its room ("image/store.h").
#
# No cycles: a module is a .c/.h pair (image/store = store.c + store.h);
# A depends on B when A.c or A.h includes B.h. A cycle means neither can
# be understood, tested or linked without the other.
#
# <...> includes and #include_next are not ours and are skipped; tests/
# may include anything and is not checked. POSIX sh and awk only, so
# `make lint` works on a minimal Debian.

set -eu
cd "${1:-.}"
[ -d supervisor ] || { echo "check_layers: $(pwd)/supervisor: no such directory" >&2; exit 2; }
dirs=supervisor
for d in shared init; do [ -d "$d" ] && dirs="$dirs $d"; done

# Sorted input makes the output (and which cycle is found first) stable.
# shellcheck disable=SC2086 # $dirs is a list of plain names
find $dirs -type f -name '*.[ch]' | LC_ALL=C sort |
LC_ALL=C awk -v rules="$RULES" '
function problem(msg) { print msg; problems++ }

# may[a, b]: room a may include room b. uses[a]: the list for messages.
function read_rules(    lines, n, i, w, k, r) {
	n = split(rules, lines, "\n")
	for (i = 1; i <= n; i++) {
		if (split(lines[i], w) == 0) continue
		r = w[1]; isroom[r] = 1; may[r, r] = 1; may[r, "shared"] = 1
		uses[r] = ""
		for (k = 2; k in w; k++) { may[r, w[k]] = 1; uses[r] = uses[r] w[k] ", " }
		uses[r] = uses[r] "shared"
	}
	may["shared", "shared"] = 1; uses["shared"] = "no other room"
	may["init", "init"] = 1; may["init", "shared"] = 1; uses["init"] = "shared"
}

# The room of a file path: a supervisor room, shared or init; "" if none.
function room_of(path,    p, n) {
	n = split(path, p, "/")
	if (n == 3 && p[1] == "supervisor" && (p[2] in isroom)) return p[2]
	if (n == 2 && (p[1] == "shared" || p[1] == "init")) return p[1]
	return ""
}

# The module of a file path: supervisor/image/store.c -> image/store.
function module_of(path,    m) {
	m = path; sub(/^supervisor\//, "", m); sub(/\.[ch]$/, "", m)
	return m
}

# Resolves the include of name on line ln of f (in room, folder dir) the
# way the compiler would; returns the target, or "" after a problem.
function resolve(f, ln, name, room, dir,    r, t, also) {
	if (name !~ /\//) {
		if ((dir "/" name) in known) return dir "/" name
		if (("shared/" name) in known) return "shared/" name
		if (!(name in anywhere)) return missing(f, ln, name)
		also = (room == "shared") ? "" : " or shared/"
		problem(f ":" ln ": bare include \"" name "\" is not in " dir "/" also ": name its room")
		return ""
	}
	r = name; sub(/\/.*/, "", r)
	if (name !~ /^[^\/]+\/[^\/]+$/ || !(r in isroom)) {
		problem(f ":" ln ": include \"" name "\" is neither \"header.h\" nor \"room/header.h\"")
		return ""
	}
	t = "supervisor/" name
	if (!(t in known)) return missing(f, ln, name)
	if (r == room) {
		t = name; sub(/.*\//, "", t)
		problem(f ":" ln ": same-room include \"" name "\" should be bare \"" t "\"")
	} else if (!((room, r) in may))
		problem(f ":" ln ": " room " may not include " name " (" room " may use: " uses[room] ")")
	return "supervisor/" name
}

function missing(f, ln, name) {
	problem(f ":" ln ": includes missing header " name)
	return ""
}

# Reads the includes of f and records the module graph: nadj[m] edges
# from m, adj[m, i] their targets.
function check_file(f,    room, dir, from, line, ln, name, to, t) {
	room = room_of(f)
	if (room == "") { problem(f ": not in a room folder"); return }
	dir = f; sub(/\/[^\/]*$/, "", dir)
	from = module_of(f)
	if (!(from in node)) { node[from] = 1; nodes[++nnodes] = from }
	ln = 0
	while ((getline line < f) > 0) {
		ln++
		if (line !~ /^[ \t]*#[ \t]*include[ \t]*"/) continue
		name = line; sub(/^[^"]*"/, "", name); sub(/".*/, "", name)
		t = resolve(f, ln, name, room, dir)
		if (t == "") continue
		to = module_of(t)
		if (to != from && !((from, to) in edge)) {
			edge[from, to] = 1; adj[from, ++nadj[from]] = to
		}
	}
	close(f)
}

# Depth-first search: an edge back to a module still on the stack closes
# a cycle, the stack from that module up.
function dfs(u,    i, v) {
	state[u] = 1; stack[++depth] = u
	for (i = 1; i <= nadj[u]; i++) {
		v = adj[u, i]
		if (state[v] == 1) report_cycle(v)
		else if (!state[v]) dfs(v)
	}
	depth--; state[u] = 2
}

# Prints the cycle starting at its smallest module, so a cycle reads the
# same whichever module the search met first.
function report_cycle(v,    top, n, min, i, path) {
	for (top = depth; stack[top] != v; top--) ;
	n = depth - top + 1; min = 0
	for (i = 1; i < n; i++) if (stack[top + i] < stack[top + min]) min = i
	path = ""
	for (i = 0; i < n; i++) path = path stack[top + (min + i) % n] " -> "
	path = path stack[top + min]
	if (!(path in seen)) { seen[path] = 1; problem("include cycle: " path) }
}

{ files[++nfiles] = $0; known[$0] = 1; n = split($0, p, "/"); anywhere[p[n]] = 1 }

END {
	read_rules()
	for (i = 1; i <= nfiles; i++) check_file(files[i])
	for (i = 1; i <= nnodes; i++) if (!state[nodes[i]]) dfs(nodes[i])
	print "layers: " (nfiles + 0) " files, " (problems + 0) " problems"
	exit (problems > 0)
}'
