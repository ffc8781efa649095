#!/usr/bin/env bash
# Installs what the tests need beyond Go. Idempotent and fast when
# everything is already there; .ci/run calls it before `go test`.
#
#   maildev   SMTP mail catcher with an HTTP API (npm), for the digest's
#             SMTP test (sinks/digest). Pinned version.
#   chromium  Debian package, for the tests that run a browser (the
#             dashboard's pages, the digest's PNG). Installed when
#             INSTALL_CHROMIUM=1 (CI sets it); without it those tests
#             skip locally and fail under CI=true.
#   postgresql  PostgreSQL server (Debian package) for the PostgreSQL
#             store's tests; scripts/test starts a throwaway cluster.
#
# Every install that is asked for and fails stops this script with a
# non-zero status and says what failed: a missing dependency must not
# turn into a quietly skipped test.
set -euo pipefail

MAILDEV_VERSION="3.0.0"

log() { echo "install-test-deps: $*" >&2; }

have_maildev() {
	command -v maildev >/dev/null 2>&1 && [ "$(maildev --version 2>/dev/null | tail -n1)" = "$MAILDEV_VERSION" ]
}

if have_maildev; then
	log "maildev $MAILDEV_VERSION already installed ($(command -v maildev))"
else
	if ! command -v npm >/dev/null 2>&1; then
		log "npm not found: install Node.js (>= 20) and npm, then rerun"
		exit 1
	fi
	log "installing maildev@$MAILDEV_VERSION with npm"
	if [ "$(id -u)" = "0" ]; then
		npm install --global --no-fund --no-audit --loglevel=error "maildev@$MAILDEV_VERSION"
	else
		# Without root, install under ~/.local; the test also looks in
		# `npm prefix -g`/bin, and MAILDEV_BIN may point at the binary.
		npm install --global --prefix "$HOME/.local" --no-fund --no-audit --loglevel=error "maildev@$MAILDEV_VERSION"
		log "installed in $HOME/.local/bin; add it to PATH or set MAILDEV_BIN=$HOME/.local/bin/maildev"
	fi
fi

if [ "${INSTALL_CHROMIUM:-0}" = "1" ] && ! command -v chromium >/dev/null 2>&1; then
	if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != "0" ]; then
		log "INSTALL_CHROMIUM=1 but apt-get or root is missing: install chromium by hand (apt-get install chromium)"
		exit 1
	fi
	log "installing chromium with apt-get"
	if ! apt-get update -qq; then
		log "apt-get update failed: cannot install chromium"
		exit 1
	fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
		log "apt-get install chromium failed"
		exit 1
	fi
	if ! command -v chromium >/dev/null 2>&1; then
		log "chromium was installed but is not on PATH"
		exit 1
	fi
fi

# PostgreSQL: the server binaries (initdb, pg_ctl, postgres) from Debian.
pg_bindir() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1
}
if [ -n "$(pg_bindir)" ] && [ -x "$(pg_bindir)/initdb" ]; then
	log "postgresql already installed ($(pg_bindir))"
else
	if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != "0" ]; then
		log "postgresql not found and cannot install it (needs apt-get and root): apt-get install postgresql"
		exit 1
	fi
	log "installing postgresql with apt-get"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
	if [ -z "$(pg_bindir)" ] || [ ! -x "$(pg_bindir)/initdb" ]; then
		log "postgresql installed but no initdb under /usr/lib/postgresql/*/bin"
		exit 1
	fi
	log "postgresql installed ($(pg_bindir))"
fi

if ! have_maildev; then
	log "maildev $MAILDEV_VERSION is still not runnable after the install"
	exit 1
fi
