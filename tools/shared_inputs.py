"""What the golden generators record about the shared files they read: their SHA-256 (the
Rust tests refuse goldens made from other content; tests/src/lib.rs, `check_golden_inputs`)."""
import hashlib


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
