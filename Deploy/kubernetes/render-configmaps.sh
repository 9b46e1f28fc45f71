#!/usr/bin/env bash
# Renders configmaps.yaml from the repository's tollgate.yaml, routes/, budgets/ and prompts/
# (kustomize's configMapGenerator cannot read files outside this directory) and writes their
# sha256 into deployment.yaml's `checksum/config` annotation, so that applying a changed
# configuration rolls the pods. Run it after editing any of those files and commit both;
# scripts/integration/deploy.sh fails while the committed render differs from the files.
#
# Usage: Deploy/kubernetes/render-configmaps.sh [OUT_DIR]
#   OUT_DIR  where configmaps.yaml and deployment.yaml are written (default: this directory)
# Needs kubectl; no cluster (--dry-run=client).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here}"
mkdir -p "$out"
command -v kubectl >/dev/null || { echo "render-configmaps: kubectl not found" >&2; exit 1; }
cd "$root"

# The files, in the order the checksum reads them (the same order as deploy_check.py).
files=(tollgate.yaml)
for dir in routes budgets prompts; do
  while IFS= read -r file; do files+=("$file"); done < <(find "$dir" -maxdepth 1 -type f | LC_ALL=C sort)
done
checksum="$(sha256sum "${files[@]}" | sha256sum | cut -d' ' -f1)"

configmap() { # NAME SOURCE...: one ConfigMap, its keys the files' names
  local name="$1" source from=()
  shift
  for source in "$@"; do from+=("--from-file=$source"); done
  echo "---"
  kubectl create configmap "$name" "${from[@]}" --dry-run=client -o yaml \
    | kubectl label --local -f - app.kubernetes.io/name=tollgate -o yaml \
    | sed '/^  creationTimestamp: null$/d'
}

{
  echo "# Rendered by render-configmaps.sh from tollgate.yaml, routes/, budgets/ and prompts/: do not edit."
  configmap tollgate-config tollgate.yaml
  configmap tollgate-routes routes/
  configmap tollgate-budgets budgets/
  configmap tollgate-prompts prompts/
} > "$out/configmaps.yaml.tmp"
mv "$out/configmaps.yaml.tmp" "$out/configmaps.yaml"

sed "s/^\(        checksum\/config: \).*/\1\"$checksum\"/" "$here/deployment.yaml" > "$out/deployment.yaml.tmp"
grep -q "checksum/config: \"$checksum\"" "$out/deployment.yaml.tmp" \
  || { rm -f "$out/deployment.yaml.tmp"; echo "render-configmaps: no checksum/config annotation in deployment.yaml" >&2; exit 1; }
mv "$out/deployment.yaml.tmp" "$out/deployment.yaml"
echo "rendered $out/configmaps.yaml (config sha256 $checksum)"
