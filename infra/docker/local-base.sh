#!/bin/sh
# A local stand-in for the official base image `denoland/deno:debian-<version>`, for machines that
# cannot pull from Docker Hub but can reach deb.debian.org. It rebuilds what the official image is
# (denoland/deno_docker debian.dockerfile): Debian stable minimal, the deno binary at
# /usr/bin/deno, a `deno` user and group with uid/gid 1993, DENO_DIR=/deno-dir owned by it, tini,
# and an entrypoint that runs `deno <args>` for deno subcommands and anything else as given.
#
#   sudo infra/docker/local-base.sh                    # -> localhost/deno-base:<deno version>
#   podman build --build-arg BASE_IMAGE=localhost/deno-base:2.9.6 -t edu-platform:dev .
#
# Needs root, debootstrap and podman. The deno binary is the one on PATH (the npm package `deno`
# ships it), or DENO_BIN; its version must be the Dockerfile's. SUITE (default trixie, today's
# Debian stable, which `debian:stable-slim` points at) and MIRROR can be overridden.
set -eu

DENO_BIN=${DENO_BIN:-$(readlink -f "$(command -v deno)")}
VERSION=$("$DENO_BIN" --version | sed -n 's/^deno \([0-9][0-9.]*\).*/\1/p')
TAG=${TAG:-localhost/deno-base:$VERSION}
SUITE=${SUITE:-trixie}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
WANT=$(sed -n 's/^ARG BASE_IMAGE=denoland\/deno:debian-//p' "$(dirname "$0")/../../Dockerfile")
if [ -n "$WANT" ] && [ "$WANT" != "$VERSION" ]; then
  echo "deno at $DENO_BIN is $VERSION but the Dockerfile wants $WANT (set DENO_BIN)" >&2
  exit 1
fi

ROOT=$(mktemp -d "${TMPDIR:-/var/tmp}/deno-base.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
debootstrap --variant=minbase --include=tini "$SUITE" "$ROOT" "$MIRROR"

chroot "$ROOT" useradd --uid 1993 --user-group deno
mkdir "$ROOT/deno-dir"
chown 1993:1993 "$ROOT/deno-dir"
install -m 755 "$DENO_BIN" "$ROOT/usr/bin/deno"
ln -s /usr/bin/tini "$ROOT/tini"
cat >"$ROOT/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
# As in the official image: options and deno subcommands go to deno, anything else runs as given.
case "$1" in
  -*) exec deno "$@" ;;
  bench | bundle | cache | check | clean | compile | completions | coverage | deploy | doc | eval | \
    fmt | help | info | init | install | jupyter | lint | lsp | outdated | publish | repl | run | \
    serve | task | test | types | uninstall | upgrade | x) exec deno "$@" ;;
esac
exec "$@"
SH
chmod 755 "$ROOT/usr/local/bin/docker-entrypoint.sh"
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
  "$ROOT"/var/log/* "$ROOT"/tmp/* "$ROOT"/var/tmp/*

tar --numeric-owner -C "$ROOT" -c . | podman import \
  --change 'ENV DENO_DIR=/deno-dir/' --change 'ENV DENO_INSTALL_ROOT=/usr/local' \
  --change "ENV DENO_VERSION=$VERSION" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENTRYPOINT ["/tini", "--", "docker-entrypoint.sh"]' \
  --change 'CMD ["run", "https://docs.deno.com/examples/welcome.ts"]' \
  - "$TAG"
podman run --rm "$TAG" deno --version
