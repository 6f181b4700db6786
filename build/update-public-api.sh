#!/usr/bin/env bash
# Brings src/*/PublicAPI.Unshipped.txt up to date after public API was added, changed or removed, so that the build's
# RS0016 / RS0017 errors (Microsoft.CodeAnalysis.PublicApiAnalyzers) go away. Review the diff: it is the API change.
#
#   build/update-public-api.sh                    # all three libraries
#   build/update-public-api.sh src/Rvpt           # only some (folders or .csproj files)
#
# It builds the libraries and applies what the analyzer reports, until the build has none of it left:
#   RS0016 (a public symbol is not declared): the symbol, exactly as the diagnostic names it, is added to the
#          project's PublicAPI.Unshipped.txt;
#   RS0017 (a declared symbol no longer exists): its line is deleted from PublicAPI.Unshipped.txt or, for a symbol of
#          PublicAPI.Shipped.txt, '*REMOVED*<symbol>' is added to PublicAPI.Unshipped.txt (the analyzer's convention).
# The files are kept sorted, after '#nullable enable', so that diffs stay small. The script fails, listing them, if
# errors remain (a compile error, or a public-API rule that needs a person, such as RS0036/RS0037).
# (`dotnet format analyzers <csproj> --diagnostics RS0016` applies the analyzer's code fix instead, but that fix also
# deletes existing entries of C# records' synthesized members when a record changes, and cannot fix RS0017.)
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

sort_api_files() {
  local file
  for file in "$1"/PublicAPI.Shipped.txt "$1"/PublicAPI.Unshipped.txt; do
    [ -f "$file" ] || printf '#nullable enable\n' > "$file"
    { echo '#nullable enable'; grep -vx '#nullable enable' "$file" | grep -v '^[[:space:]]*$' | LC_ALL=C sort -u || true; } > "$file.tmp"
    mv "$file.tmp" "$file"
  done
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for project in "${projects[@]}"; do sort_api_files "$(dirname "$project")"; done

# A library that fails to build hides the diagnostics of the libraries that depend on it, hence a few rounds.
for round in 1 2 3 4 5; do
  echo "Building (round $round) ..."
  : > "$log"
  for project in "${projects[@]}"; do
    dotnet build "$project" -nologo -v q -clp:NoSummary >> "$log" 2>&1 || true
  done

  # RS0017 first: its line numbers refer to the files as they are now.
  removed=$(grep -oE "[^ ]*PublicAPI\.(Shipped|Unshipped)\.txt\([0-9]+,[0-9]+\): error RS0017" "$log" | sort -u |
    sed -E 's/^(.*)\(([0-9]+),[0-9]+\).*$/\1 \2/' | sort -k1,1 -k2,2nr) || true
  if [ -n "$removed" ]; then
    while read -r file line; do # bottom-up within each file, so the remaining line numbers stay valid
      if [ "$(basename "$file")" = PublicAPI.Unshipped.txt ]; then
        sed -i "${line}d" "$file"
      else
        printf '*REMOVED*%s\n' "$(sed -n "${line}p" "$file")" >> "$(dirname "$file")/PublicAPI.Unshipped.txt"
      fi
    done <<< "$removed"
  fi

  added=$(grep -E "error RS0016: Symbol '.*' is not part of the declared public API" "$log" |
    sed -E "s/^.*error RS0016: Symbol '(.*)' is not part of the declared public API.*\[([^]]*)\][[:space:]]*$/\2	\1/" | sort -u) || true
  if [ -n "$added" ]; then
    while IFS=$'\t' read -r project symbol; do
      printf '%s\n' "$symbol" >> "$(dirname "$project")/PublicAPI.Unshipped.txt"
    done <<< "$added"
  fi

  for project in "${projects[@]}"; do sort_api_files "$(dirname "$project")"; done
  if [ -z "$removed" ] && [ -z "$added" ]; then break; fi
  echo "  $(printf '%s' "$added" | grep -c . || true) symbol(s) added, $(printf '%s' "$removed" | grep -c . || true) removed"
done

if grep -E ": error " "$log" | sort -u | grep .; then
  echo "The build still fails (above): fix that, then run this script again." >&2
  exit 1
fi
echo "Public API files up to date; changed (git status):"
git status --short -- 'src/*/PublicAPI.*.txt'
