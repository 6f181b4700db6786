#!/usr/bin/env bash
# Brings src/*/PublicAPI.Unshipped.txt up to date after public API was added, changed or removed, so that the build's
# RS0016 / RS0017 errors (Microsoft.CodeAnalysis.PublicApiAnalyzers) go away. Review the diff: it is the API change.
#
#   build/update-public-api.sh                    # all three libraries (about a minute on 2 cores)
#   build/update-public-api.sh src/Rvpt           # only some (folders or .csproj files)
#
# 1. RS0016 (public symbol not declared): the analyzer's own code fix, run by `dotnet format analyzers`, adds it.
# 2. RS0017 (declared symbol no longer public): dotnet format cannot fix diagnostics reported in the API files, so
#    a build lists them and this script deletes the line from PublicAPI.Unshipped.txt, or, for a symbol that was in
#    PublicAPI.Shipped.txt, adds '*REMOVED*<symbol>' to PublicAPI.Unshipped.txt (the analyzer's convention).
# 3. The files are sorted (after '#nullable enable') so diffs stay small, and the script fails if the build still
#    reports a public-API diagnostic.
# At a release, move the lines of PublicAPI.Unshipped.txt into PublicAPI.Shipped.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_UI_LANGUAGE=en DOTNET_NOLOGO=1

projects=()
for arg in "${@:-src/Rvpt.Clip src/Rvpt src/Rvpt.Backdoor}"; do
  for p in $arg; do
    if [ -d "$p" ]; then p=$(ls "$p"/*.csproj); fi
    projects+=("$p")
  done
done

for project in "${projects[@]}"; do
  dir=$(dirname "$project")
  for file in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    [ -f "$dir/$file" ] || printf '#nullable enable\n' > "$dir/$file"
  done
  echo "RS0016: adding new public API of $project"
  dotnet format analyzers "$project" --diagnostics RS0016 --severity info --verbosity quiet
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for attempt in 1 2 3; do
  echo "RS0017: building to find declared API that no longer exists"
  : > "$log"
  for project in "${projects[@]}"; do
    dotnet build "$project" --no-restore -nologo -v q -clp:NoSummary >> "$log" 2>&1 || true
  done
  removed=$(grep -oE "[^ ]*PublicAPI\.(Shipped|Unshipped)\.txt\([0-9]+,[0-9]+\): error RS0017" "$log" | sort -u |
    sed -E 's/^(.*)\(([0-9]+),[0-9]+\).*$/\1 \2/' | sort -k1,1 -k2,2nr) || true
  [ -n "$removed" ] || break
  # Bottom-up within each file, so the line numbers of the remaining entries stay valid.
  while read -r file line; do
    if [ "$(basename "$file")" = PublicAPI.Unshipped.txt ]; then
      sed -i "${line}d" "$file"
    else
      printf '*REMOVED*%s\n' "$(sed -n "${line}p" "$file")" >> "$(dirname "$file")/PublicAPI.Unshipped.txt"
    fi
  done <<< "$removed"
done

for project in "${projects[@]}"; do
  for file in "$(dirname "$project")"/PublicAPI.Shipped.txt "$(dirname "$project")"/PublicAPI.Unshipped.txt; do
    { echo '#nullable enable'; grep -vx '#nullable enable' "$file" | grep -v '^[[:space:]]*$' | LC_ALL=C sort -u || true; } > "$file.tmp"
    mv "$file.tmp" "$file"
  done
done

# Whatever the last build still reports (an RS0016 the code fix could not handle, RS0036/RS0037 nullable
# annotations, or an ordinary compile error) needs a person.
if grep -E ": error " "$log" | sort -u | grep .; then
  echo "The build still fails (above): fix that, then run this script again." >&2
  exit 1
fi
git status --short -- 'src/*/PublicAPI.*.txt'
