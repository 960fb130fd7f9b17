#!/usr/bin/env bash
# Builds a release: notaryd, notaryctl and verifier for every target, static
# (CGO_ENABLED=0), with the release and commit stamped into package
# app/version, and SHA256SUMS over them, into dist/<release>/ (git-ignored).
#
#   scripts/release.sh                     every target, from a clean checkout
#   RELEASE=v0.3.0 scripts/release.sh      name the release (default: git describe)
#   scripts/release.sh --targets linux/arm64 --cmds notaryctl
#
# Options:
#   --targets LIST   comma-separated GOOS/GOARCH (default: all of TARGETS below)
#   --cmds LIST      comma-separated commands (default: notaryd,notaryctl,verifier)
#   --out DIR        output directory (default: dist/<release>); emptied first
#   --allow-dirty    build from a work tree with uncommitted changes (the
#                    commit is stamped with "-dirty"); refused otherwise
#
# Files are named <cmd>-<release>-<goos>-<goarch>[.exe]. Each binary prints
# its release and commit with `version`; a binary built for this machine is
# run to check it. -trimpath, no cgo and the module's pinned dependencies
# make the build reproducible: the same commit built with the same Go
# release gives the same SHA256SUMS.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS="linux/amd64,linux/arm64,windows/amd64,darwin/arm64"
CMDS="notaryd,notaryctl,verifier"
targets=$TARGETS cmds=$CMDS out="" allow_dirty=false
usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --targets) targets=${2:?--targets needs a list}; shift 2 ;;
    --cmds) cmds=${2:?--cmds needs a list}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --allow-dirty) allow_dirty=true; shift ;;
    -h|--help) usage ;;
    *) echo "release.sh: unknown argument $1" >&2; usage ;;
  esac
done

IFS=, read -r -a target_list <<< "$targets"
IFS=, read -r -a cmd_list <<< "$cmds"
for t in "${target_list[@]}"; do
  case ",$TARGETS," in *",$t,"*) ;; *) echo "release.sh: target $t is not one of $TARGETS" >&2; exit 2 ;; esac
done
for c in "${cmd_list[@]}"; do
  case ",$CMDS," in *",$c,"*) ;; *) echo "release.sh: command $c is not one of $CMDS" >&2; exit 2 ;; esac
done

git rev-parse --git-dir >/dev/null 2>&1 || { echo "release.sh: run it in a git checkout" >&2; exit 1; }
commit=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  if ! $allow_dirty; then
    echo "release.sh: the work tree has uncommitted changes; commit them, or pass --allow-dirty" >&2
    exit 1
  fi
  commit=$commit-dirty
fi
release=${RELEASE:-$(git describe --tags --always --dirty)}
case $release in
  *[!A-Za-z0-9._+-]*) echo "release.sh: release name $release: use letters, digits and . _ + -" >&2; exit 2 ;;
esac
out=${out:-dist/$release}

pkg=github.com/gobtechlab/notary/app/version
ldflags="-X $pkg.Release=$release -X $pkg.Commit=$commit"
rm -rf "$out"
mkdir -p "$out"
files=()
for t in "${target_list[@]}"; do
  goos=${t%/*} goarch=${t#*/}
  ext=""
  [ "$goos" = windows ] && ext=.exe
  for c in "${cmd_list[@]}"; do
    f=$c-$release-$goos-$goarch$ext
    echo "building $f"
    CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags "$ldflags" -o "$out/$f" "./cmd/$c"
    files+=("$f")
    if [ "$goos/$goarch" = "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" ]; then
      v=$("$out/$f" version)
      case $v in
        *"$release"*"$commit"*) ;;
        *) echo "release.sh: $f version says \"$v\", want release $release, commit $commit" >&2; exit 1 ;;
      esac
    fi
  done
done

(
  cd "$out"
  if command -v sha256sum >/dev/null; then
    sha256sum "${files[@]}"
  else
    shasum -a 256 "${files[@]}"
  fi
) > "$out/SHA256SUMS.tmp"
mv "$out/SHA256SUMS.tmp" "$out/SHA256SUMS"
echo "release $release (commit $commit): ${#files[@]} binaries and SHA256SUMS in $out"
