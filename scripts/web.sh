#!/usr/bin/env bash
# The web client's toolchain: Node.js/npm to build web/ and Debian's Chromium for the browser tests.
#
#   scripts/web.sh setup [--browser]   install nodejs+npm (and chromium + an emoji font with --browser) with apt when missing
#   scripts/web.sh build               npm ci when web/node_modules is missing or older than package-lock.json,
#                                      then bundle web/src into web/dist (git-ignored), which the Gateway serves at /,
#                                      and check that web/src's imports go one way without a cycle
#                                      (scripts/check-web-imports.mjs; the build fails when they do not)
#
# Progress goes to stderr. Nothing is downloaded by npm but the packages in web/package-lock.json (no browser download:
# the tests drive /usr/bin/chromium).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$ROOT/web"

log() { printf '[web] %s\n' "$*" >&2; }
die() { printf '[web] ERROR: %s\n' "$*" >&2; exit 1; }

apt_install() {
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "need to install $* but not root and no sudo"
        sudo=(sudo)
    fi
    log "installing $* (apt)"
    "${sudo[@]}" apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}

setup() {
    local missing=()
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    if [[ "${1:-}" == "--browser" ]]; then
        [[ -x /usr/bin/chromium ]] || missing+=(chromium)
        # Emoji glyphs for reactions in screenshots (a desktop has them; a bare server does not).
        [[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]] || missing+=(fonts-noto-color-emoji)
    fi
    if [[ ${#missing[@]} -gt 0 ]]; then
        apt_install "${missing[@]}"
    fi
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || die "node/npm still missing"
    if [[ "${1:-}" == "--browser" && ! -x /usr/bin/chromium ]]; then die "chromium still missing"; fi
    local major; major="$(node -p 'process.versions.node.split(".")[0]')"
    [[ "$major" -ge 18 ]] || die "Node.js 18 or later is needed (found $(node --version))"
}

build() {
    cd "$WEB"
    if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
        log "npm ci"
        npm ci --no-audit --no-fund --loglevel=error >&2
    fi
    node build.mjs >&2
    node "$ROOT/scripts/check-web-imports.mjs"
}

case "${1:-}" in
    setup) shift; setup "$@" ;;
    build) build ;;
    *) echo "usage: $0 setup [--browser] | build" >&2; exit 2 ;;
esac
