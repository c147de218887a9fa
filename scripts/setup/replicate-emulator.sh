# Sourced by scripts/test.sh: installs (when missing) the two generations of Cog the emulator's
# `--cog` tests run real predictors with, each in its own virtual environment under .tools/, and
# exports where they are:
#   COG_PYTHON_09   .tools/cog-0.9/bin/python   (cog==0.9.26, the Python HTTP server)
#   COG_PYTHON_023  .tools/cog-0.23/bin/python  (cog 0.23.x, whose server is the Rust coglet)
# Idempotent: a venv whose `import cog` works with the wanted version is kept.
emulator_cog_venv() { # $1 = venv dir, $2 = pip requirement, $3 = version prefix
    local venv="$1" req="$2" want="$3" have
    have="$("$venv/bin/python" -c 'import cog; print(cog.__version__)' 2>/dev/null || true)"
    if [[ "$have" == "$want"* ]]; then
        return 0
    fi
    echo "installing $req into $venv"
    python3 -m venv "$venv" &&
        "$venv/bin/pip" install --quiet --disable-pip-version-check "$req"
}
_emu_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
emulator_cog_venv "$_emu_root/.tools/cog-0.9" "cog==0.9.26" "0.9.26" || echo "warning: cog==0.9.26 install failed"
emulator_cog_venv "$_emu_root/.tools/cog-0.23" "cog>=0.23,<0.24" "0.23" || echo "warning: cog 0.23 install failed"
export COG_PYTHON_09="$_emu_root/.tools/cog-0.9/bin/python"
export COG_PYTHON_023="$_emu_root/.tools/cog-0.23/bin/python"
unset _emu_root
