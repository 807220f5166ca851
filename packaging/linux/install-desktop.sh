#!/usr/bin/env bash
# Add CANN Studio to the current user's desktop (no root): a menu entry with its icon, and the .canns
# session file type, opened by CANN Studio on double-click. Follows the XDG base-directory layout
# ($XDG_DATA_HOME, default ~/.local/share), so GNOME, KDE, Xfce & co. pick it up.
#
#   install-desktop.sh [--exec PATH]   install (PATH: the canns-studio executable to launch)
#   install-desktop.sh --uninstall     remove everything this installed
#
# Without --exec the first of these is used: the bundle this script sits in (dist/canns-studio/linux/),
# the bundle built in this checkout (dist/canns-studio/), the checkout's .venv, `canns-studio` on PATH.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
config_home=${XDG_CONFIG_HOME:-$HOME/.config}
app_id=canns-studio
mime_type=application/x-canns-session
desktop_file=$data_home/applications/$app_id.desktop
mime_file=$data_home/mime/packages/$app_id.xml
icon_root=$data_home/icons/hicolor
png_sizes="16 24 32 48 64 128 256 512"

die() { echo "install-desktop: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

refresh() {  # Every tool is optional: desktops also rescan on their own, just later.
  if have update-mime-database; then XDG_DATA_HOME=$data_home update-mime-database "$data_home/mime" >/dev/null; fi
  if have update-desktop-database; then update-desktop-database -q "$data_home/applications" || true; fi
  if have gtk-update-icon-cache && [ -f "$icon_root/index.theme" ]; then
    gtk-update-icon-cache -q -t -f "$icon_root" || true
  fi
  touch "$icon_root" 2>/dev/null || true  # some desktops watch the folder's mtime
}

uninstall() {
  rm -f "$desktop_file" "$mime_file" "$icon_root/scalable/apps/$app_id.svg"
  for size in $png_sizes; do rm -f "$icon_root/${size}x${size}/apps/$app_id.png"; done
  if [ -f "$config_home/mimeapps.list" ]; then
    sed -i "\\|^$mime_type=$app_id.desktop;\\?\$|d" "$config_home/mimeapps.list"
  fi
  refresh
  echo "CANN Studio removed from the desktop (the app itself was not touched)."
}

find_exec() {
  local candidate
  for candidate in "$here/../canns-studio" "$here/../../dist/canns-studio/canns-studio" \
                   "$here/../../.venv/bin/canns-studio" "$(command -v canns-studio || true)"; do
    if [ -n "$candidate" ] && [ -f "$candidate" ] && [ -x "$candidate" ]; then
      (cd "$(dirname "$candidate")" && echo "$(pwd -P)/$(basename "$candidate")")
      return
    fi
  done
  die "no canns-studio executable found: build the bundle (make bundle) or pass --exec PATH"
}

install() {
  local exe=$1 icon_dir="" found_icon=0
  [ -f "$exe" ] && [ -x "$exe" ] || die "not an executable file: $exe"
  exe=$(cd "$(dirname "$exe")" && echo "$(pwd -P)/$(basename "$exe")")
  case $exe in
    *[\"\`\$\\%]*) die "the path $exe has a character the desktop entry's Exec key cannot hold" ;;
  esac

  mkdir -p "$(dirname "$desktop_file")" "$(dirname "$mime_file")"
  # Exec and TryExec point at this executable (quoted: the path may contain spaces); TryExec hides the
  # menu entry again if the app is deleted.
  local sed_exe=${exe//&/\\&}  # '&' means "the match" in a sed replacement
  sed_exe=${sed_exe//|/\\|}
  sed -e "s|^Exec=.*|Exec=\"$sed_exe\" %f|" -e "/^Exec=/a TryExec=$exe" \
    "$here/$app_id.desktop" > "$desktop_file"
  cp "$here/$app_id-mime.xml" "$mime_file"

  # Icons: the bundle's linux/icons (rendered by packaging/make_icons.py), else the checkout's resources.
  for icon_dir in "$here/icons" "$here/../../resources/icons"; do
    [ -f "$icon_dir/$app_id.svg" ] && break
  done
  if [ -f "$icon_dir/$app_id.svg" ]; then
    mkdir -p "$icon_root/scalable/apps" && cp "$icon_dir/$app_id.svg" "$icon_root/scalable/apps/$app_id.svg"
    found_icon=1
  fi
  for size in $png_sizes; do
    if [ -f "$icon_dir/$app_id-$size.png" ]; then
      mkdir -p "$icon_root/${size}x${size}/apps"
      cp "$icon_dir/$app_id-$size.png" "$icon_root/${size}x${size}/apps/$app_id.png"
      found_icon=1
    fi
  done
  [ $found_icon = 1 ] || echo "install-desktop: warning: no icon found next to $here" >&2

  refresh
  if have xdg-mime; then xdg-mime default "$app_id.desktop" "$mime_type" || true; fi
  if have desktop-file-validate; then desktop-file-validate "$desktop_file"; fi
  echo "CANN Studio added to the desktop: $desktop_file"
  echo "  launches: $exe"
  echo "  opens *.canns session files ($mime_type) on double-click"
}

case "${1:-}" in
  --uninstall) uninstall ;;
  --exec) [ $# -eq 2 ] || die "usage: $0 [--exec PATH] | --uninstall"; install "$2" ;;
  "") install "$(find_exec)" ;;
  -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0" ;;
  *) die "usage: $0 [--exec PATH] | --uninstall" ;;
esac
