#!/usr/bin/env bash
# Dev time only: bundles CodeMirror 6 (codemirror-entry.js) and uPlot into the server's UI assets, with their
# licences. Run it after changing codemirror-entry.js or a version in package.json, and commit what it writes.
# Nothing at build, run or test time needs Node: the bundles are committed files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../src/Kiteflow.Server/Ui/assets/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/codemirror-entry.js" "$work/"
[ -f "$here/package-lock.json" ] && cp "$here/package-lock.json" "$work/"
(cd "$work" && npm install --no-audit --no-fund --ignore-scripts >/dev/null && cp package-lock.json "$here/")
esbuild="$work/node_modules/@esbuild/linux-x64/bin/esbuild"
"$esbuild" "$work/codemirror-entry.js" --bundle --format=esm --minify --target=es2022 --legal-comments=none --outfile="$out/codemirror.js"
"$esbuild" "$work/node_modules/uplot/dist/uPlot.esm.js" --format=esm --minify --target=es2022 --legal-comments=none --outfile="$out/uplot.js"
cp "$work/node_modules/uplot/dist/uPlot.min.css" "$out/uplot.css"
{
  echo "codemirror.js bundles these packages (MIT licence, below), built by tools/ui-vendor/build.sh:"
  (cd "$work/node_modules" && for p in @codemirror/* @lezer/* crelt style-mod w3c-keyname @marijn/*; do
     [ -f "$p/package.json" ] && echo "  $p $(node -p "require('./$p/package.json').version")"; done)
  echo
  cat "$work/node_modules/@codemirror/view/LICENSE"
} > "$out/codemirror.LICENSE.txt"
{ echo "uplot.js and uplot.css: uPlot $(node -p "require('$work/node_modules/uplot/package.json').version") (MIT licence, below)"; echo; cat "$work/node_modules/uplot/LICENSE"; } > "$out/uplot.LICENSE.txt"
ls -l "$out"
