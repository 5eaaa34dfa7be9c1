# Sourced by the benchmark scripts: the throwaway Python venvs the references run in, created
# on first use (the pinned transformers is the one the golden generators in tools/ use).

# transformers + torch: the model and training references (bench/model_torch.py,
# bench/train_throughput_torch.py).
TORCH_PACKAGES="torch transformers==4.57.6 safetensors numpy"
# transformers + datasets without torch: the preprocessing and decoding reference.
PREPROCESS_PACKAGES="transformers==4.57.6 tokenizers numpy pyarrow datasets"

# ensure_venv DIR PACKAGES...: make DIR a venv with PACKAGES unless it already is one.
ensure_venv() {
  local dir=$1
  shift
  if [ ! -x "$dir/bin/python" ]; then
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q "$@"
  fi
}
