# Sourced by the scripts that cache heavy artefacts keyed by their inputs (a
# Node runtime, a debootstrap root): `cache_dir` prints the directory they go
# in, outside the clone (CI clones afresh each run; the machine may keep this
# or not). $COCOS_MANAGER_CACHE, else /var/cache/cocos-manager when it can be
# written (root), else ${XDG_CACHE_HOME:-~/.cache}/cocos-manager.
cache_dir() {
  local dir=${COCOS_MANAGER_CACHE:-}
  if [ -z "$dir" ]; then
    if mkdir -p /var/cache/cocos-manager 2>/dev/null && [ -w /var/cache/cocos-manager ]; then
      dir=/var/cache/cocos-manager
    else
      dir=${XDG_CACHE_HOME:-$HOME/.cache}/cocos-manager
    fi
  fi
  mkdir -p "$dir"
  printf '%s\n' "$dir"
}
