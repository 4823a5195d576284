#!/usr/bin/env bash
# The install test: installs the .deb that tests/scripts/build-installers.sh built into this machine (apt
# resolves its dependencies), starts the INSTALLED app under Xvfb against the simulator and checks over
# WebDriver that it opens at sign-in with its name and icon in the window list, checks the desktop
# entry and icons, uninstalls, and checks that nothing of the app is left in system folders. The .rpm
# cannot be installed on Debian: its file list and dependencies are checked instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
fail() { echo "install-test: FAILED: $*" >&2; exit 1; }

# The app's own packages: after a full benchmark the blank app's packages lie in the same folders.
deb=$(find target/release/bundle/deb -name 'Unloc Desk_*.deb' | head -1)
rpm=$(find target/release/bundle/rpm -name 'Unloc Desk-*.rpm' | head -1)
[[ -n $deb && -n $rpm ]] || fail "no installers: run tests/scripts/build-installers.sh first"
package=$(dpkg-deb -f "$deb" Package)
echo "install-test: $deb (package $package; depends: $(dpkg-deb -f "$deb" Depends))"

# A previous failed run may have left it installed.
$sudo apt-get purge -y -qq "$package" >/dev/null 2>&1 || true
$sudo apt-get install -y -qq "$PWD/$deb" >/dev/null
mapfile -t files < <(dpkg -L "$package")
binary=$(printf '%s\n' "${files[@]}" | grep '^/usr/bin/' | head -1)
desktop=$(printf '%s\n' "${files[@]}" | grep '\.desktop$' | head -1)
[[ -x $binary ]] || fail "no executable in /usr/bin"
[[ -f $desktop ]] || fail "no .desktop entry"

echo "install-test: desktop entry $desktop"
for field in 'Name=Unloc Desk' 'Comment=' 'Categories=' 'Icon=' "Exec="; do
  grep -q "^$field" "$desktop" || fail "$desktop has no $field line"
done
icon=$(grep '^Icon=' "$desktop" | cut -d= -f2)
for size in 32x32 128x128 256x256@2; do
  [[ -f /usr/share/icons/hicolor/$size/apps/$icon.png ]] || fail "no $size icon for $icon"
done
sed 's/^/    /' "$desktop"

echo "install-test: starting the installed app ($binary)"
# The scenario is #[ignore]d in the main run (there is no installed app there): named exactly and
# included here, and e2e-exact.sh fails unless it ran and passed.
UNLOC_E2E=1 UNLOC_INSTALLED_APP="$binary" tests/scripts/with-desktop.sh tests/scripts/e2e-exact.sh --include-ignored \
  installed::installed_package_opens_at_sign_in_with_its_name_and_icon

echo "install-test: uninstalling"
$sudo apt-get purge -y -qq "$package" >/dev/null
left=0
for file in "${files[@]}"; do
  if [[ -f $file || -L $file ]]; then echo "  left behind: $file"; left=1; fi
done
((left == 0)) || fail "files of the app were left in system folders"
dpkg -s "$package" >/dev/null 2>&1 && fail "the package is still registered"

echo "install-test: rpm $rpm"
# Read whole outputs first: with pipefail, `rpm | grep -q` fails when grep stops reading early.
listing=$(rpm -qlp "$rpm" 2>/dev/null)
grep -qx '/usr/bin/unloc-desk' <<<"$listing" || fail "the rpm does not install /usr/bin/unloc-desk"
grep -q '\.desktop$' <<<"$listing" || fail "the rpm has no desktop entry"
grep -q 'hicolor/128x128/apps/' <<<"$listing" || fail "the rpm has no icons"
requires=$(rpm -qpR "$rpm" 2>/dev/null)
grep -qi 'webkit2gtk4.1\|libwebkit2gtk-4.1' <<<"$requires" || fail "the rpm does not require WebKitGTK 4.1"
grep -qi 'gtk3\|libgtk-3' <<<"$requires" || fail "the rpm does not require GTK 3"
echo "install-test: rpm requires: $(tr '\n' ' ' <<<"$requires")"

echo "install-test: installer sizes"
for file in "$deb" "$rpm"; do
  awk -v f="$file" -v b="$(stat -c %s "$file")" 'BEGIN { printf "  %-60s %6.1f MB\n", f, b / 1048576 }'
done
echo "install-test: 1 passed, 0 failed"
