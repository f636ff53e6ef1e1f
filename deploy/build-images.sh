#!/usr/bin/env bash
# Builds Vega's images in dependency order and optionally pushes them.
#
#   deploy/build-images.sh [--push] REGISTRY
#
# REGISTRY is where the two repositories `vega` and `vega-runner` live, e.g.
# 123456789012.dkr.ecr.eu-west-1.amazonaws.com. VERSION defaults to
# `git describe`. Prints the two image URIs deploy/aws takes (imageUri,
# runnerImageUri). Images are linux/amd64, the task definitions' platform.
set -euo pipefail
cd "$(dirname "$0")/.."

push=
if [[ "${1:-}" == "--push" ]]; then push=1; shift; fi
registry=${1:?usage: deploy/build-images.sh [--push] REGISTRY}
version=${VERSION:-$(git describe --tags --always --dirty)}
codex_version=$(sed -n 's/^ARG CODEX_VERSION=//p' deploy/codex-runner/Dockerfile)
image="$registry/vega:$version"
runner="$registry/vega-runner:$version"

docker build --platform linux/amd64 -t "vega-codex-runner:$codex_version" deploy/codex-runner
docker build --platform linux/amd64 -f deploy/Dockerfile --build-arg VERSION="$version" \
  --build-arg CODEX_IMAGE="vega-codex-runner:$codex_version" --target runtime -t "$image" .
docker build --platform linux/amd64 -f deploy/Dockerfile --build-arg VERSION="$version" \
  --build-arg CODEX_IMAGE="vega-codex-runner:$codex_version" --target runner -t "$runner" .
docker run --rm "$image" version
docker run --rm --entrypoint codex "$runner" --version

if [[ -n "$push" ]]; then
  docker push "$image"
  docker push "$runner"
fi
echo "imageUri=$image"
echo "runnerImageUri=$runner"
