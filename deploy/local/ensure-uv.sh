# Sourced, not run: the one place uv is pinned and installed, shared by .ci/run and the
# local stack (stack.sh, test.sh). ensure_uv installs uv $UV_VERSION with pip when no uv is
# on PATH; the sourcing script defines apt_install (as root, or through sudo), used only
# when pip itself is missing.
# shellcheck shell=bash

UV_VERSION=0.13.9

# Put a pip-installed uv on PATH when pip left its directory off (~/.local/bin, a pyenv
# version's bin): the uv package knows where its binary is. False when there is none.
uv_on_path() {
  local dir
  command -v uv >/dev/null && return 0
  dir="$(python3 -c 'import os, uv; print(os.path.dirname(uv.find_uv_bin()))' 2>/dev/null)" ||
    return 1
  PATH="$dir:$PATH"
  export PATH
}

ensure_uv() {
  local user=() out
  uv_on_path && return 0
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  # A developer who is not root gets uv in their own ~/.local (never through sudo), unless
  # python3 is a virtualenv's, which is theirs already and has no user site.
  if [[ $EUID -ne 0 ]] && python3 -c 'import sys; sys.exit(sys.prefix != sys.base_prefix)'; then
    user=(--user)
  fi
  printf '[uv] no uv on PATH: installing uv %s with %s -m pip install %s\n' \
    "$UV_VERSION" "$(command -v python3)" "${user[*]}" >&2
  # Root's install is the point here, so pip's warning about it is not wanted.
  if ! out="$(PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet "${user[@]}" \
    "uv==$UV_VERSION" 2>&1)"; then
    # Debian's own python3 refuses pip installs (PEP 668) unless told otherwise; any
    # other failure is shown as pip gave it.
    [[ $out == *externally-managed-environment* ]] || {
      printf '%s\n' "$out" >&2
      return 1
    }
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --break-system-packages \
      "${user[@]}" "uv==$UV_VERSION"
  fi
  uv_on_path || {
    printf '[uv] ERROR: pip installed uv %s but no uv binary was found\n' "$UV_VERSION" >&2
    return 1
  }
}
