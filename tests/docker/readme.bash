# shellcheck shell=bash
# Helpers of tests/docker/50-readme.bats: the README's commands as a new user would
# type them, and a clean copy of the checkout to type them in.

# readme_block README HEADING — the commands of the first indented block (4 spaces)
# after the line HEADING, one per line, "  # comment" tails removed. The tests run
# what the README shows, so a README that stops working fails here first.
readme_block() {
	awk -v h="$2" '
		$0 == h { found = 1; next }
		found && /^    [^ ]/ { inblock = 1; line = substr($0, 5); sub(/[ \t]+#.*$/, "", line); print line; next }
		found && inblock { exit }
	' "$1"
}

# clean_copy_tar ROOT OUT — a tar of the checkout as git has it: the tracked files
# with their uncommitted edits (git stash create), else HEAD; never build outputs,
# data or files git does not know. 1 when ROOT is not a git checkout.
clean_copy_tar() {
	local root=$1 out=$2 rev
	git -C "$root" rev-parse --git-dir >/dev/null 2>&1 || return 1
	# stash create makes a commit object only (no ref, the work tree is untouched);
	# it needs an identity, which a CI machine may not have configured.
	rev=$(GIT_AUTHOR_NAME=raftkv GIT_AUTHOR_EMAIL=raftkv@localhost \
		GIT_COMMITTER_NAME=raftkv GIT_COMMITTER_EMAIL=raftkv@localhost \
		git -C "$root" stash create 2>/dev/null)
	[ -n "$rev" ] || rev=HEAD
	git -C "$root" archive --format=tar -o "$out" "$rev"
}

# show_bare OUTPUT — the "bare:" progress and timing lines into the TAP output.
show_bare() {
	grep '^bare: ' <<<"$1" | sed 's/^/# /' >&3
	return 0
}
