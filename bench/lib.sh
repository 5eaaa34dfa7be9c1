# Shared by the bench scripts (source it): `release_squadkit [FEATURES]` prints the path of a
# release `squadkit` built with FEATURES (default: the CPU backend), or $SQUADKIT_BIN if set.
release_squadkit() {
  if [ -n "${SQUADKIT_BIN:-}" ]; then
    echo "$SQUADKIT_BIN"
    return
  fi
  cargo build --release -p squadkit --bins --quiet --features "${1:-flex}" >&2
  local target
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  echo "$target/release/squadkit"
}
