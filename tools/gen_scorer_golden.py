#!/usr/bin/env python3
"""Make the scorer's golden files by running the real official SQuAD v2.0 evaluation script.

The official "Evaluation Script v2.0" is not packaged on PyPI by itself; the `datasets` 1.18.4
source distribution on PyPI ships it as `metrics/squad_v2/evaluate.py`. That copy is the
official script with one adaptation: it reads each question's answers in the HF layout
(`"answers": {"text": [...], "answer_start": [...]}`) instead of a list of objects. This
script downloads that sdist into a throwaway venv (sha256-pinned), converts the data files
to that layout, runs the script as a process, and records its stdout byte for byte.

Outputs (committed; the Rust tests compare against them and never need Python):
  tests/fixtures/scorer/dataset.json   a generated SQuAD v2.0 file full of edge cases
  tests/fixtures/scorer/cases.jsonl    one line per case: predictions, na_probs, -t, -p,
                                       and the script's exact stdout
  tests/fixtures/scorer/pairs.jsonl    gold/prediction pairs with normalize_answer, exact, f1
  tests/fixtures/scorer/codepoints.json sha256 of normalize_answer over every code point,
                                       in chunks of 4096 (the Rust test rebuilds the same text)
  tests/fixtures/scorer/dev_cases.json expected outputs on ../shared/data's dev set and BERT
                                       predictions under deterministic variants (see dev_variants),
                                       with the SHA-256 of both shared files they were made from

Usage: python3 tools/gen_scorer_golden.py [--venv DIR] [--cases N]
"""
import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shared_inputs import sha256  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "scorer")
SHARED = os.path.join(ROOT, "..", "shared", "data")
SDIST = "datasets==1.18.4"
SDIST_SHA256 = "8f28a7afc2f894c68cb017335a32812f443fe41bc59c089cbd15d7412d3f7f96"
SCRIPT_SHA256 = "72ddbbe20527ea5c7b2b6b65ecefda0b727c9b5162e45e90faf8e2f23c04946e"
PIP_PACKAGES = ["numpy==2.4.6", "matplotlib==3.10.7"]


def sh(*args, **kw):
    print("+", " ".join(args), file=sys.stderr)
    return subprocess.run(args, check=True, **kw)


def setup(venv):
    """A venv with numpy + matplotlib, and the official script extracted from the sdist."""
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        sh(sys.executable, "-m", "venv", venv)
        sh(py, "-m", "pip", "install", "-q", *PIP_PACKAGES)
    script = os.path.join(venv, "evaluate-v2.0.py")
    if not os.path.exists(script):
        dl = os.path.join(venv, "sdist")
        sh(py, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", "datasets", SDIST, "-d", dl)
        tgz = os.path.join(dl, "datasets-1.18.4.tar.gz")
        assert sha256(tgz) == SDIST_SHA256, "unexpected sdist"
        with tarfile.open(tgz) as t:
            data = t.extractfile("datasets-1.18.4/metrics/squad_v2/evaluate.py").read()
        with open(script, "wb") as f:
            f.write(data)
    assert sha256(script) == SCRIPT_SHA256, "unexpected evaluate.py"
    return py, script


def to_hf_layout(squad):
    """The official nesting, with each answers list turned into the HF dict layout."""
    out = {"version": squad.get("version"), "data": []}
    for art in squad["data"]:
        paras = []
        for p in art["paragraphs"]:
            qas = []
            for qa in p["qas"]:
                q = dict(qa)
                q["answers"] = {
                    "text": [a["text"] for a in qa["answers"]],
                    "answer_start": [a["answer_start"] for a in qa["answers"]],
                }
                qas.append(q)
            paras.append({"context": p["context"], "qas": qas})
        out["data"].append({"title": art.get("title", ""), "paragraphs": paras})
    return out


class Runner:
    def __init__(self, py, script, squad):
        self.py, self.script = py, script
        self.tmp = tempfile.mkdtemp(prefix="squadkit-golden-")
        self.data = os.path.join(self.tmp, "data.json")
        with open(self.data, "w") as f:
            json.dump(to_hf_layout(squad), f)

    def run(self, preds, na_probs=None, thresh=None, pr=False):
        pred_file = os.path.join(self.tmp, "pred.json")
        with open(pred_file, "w") as f:
            json.dump(preds, f)
        args = [self.py, self.script, self.data, pred_file]
        if na_probs is not None:
            na_file = os.path.join(self.tmp, "na.json")
            with open(na_file, "w") as f:
                json.dump(na_probs, f)
            args += ["-n", na_file]
        if thresh is not None:
            args += ["-t", thresh]
        if pr:
            args += ["-p", os.path.join(self.tmp, "img")]
        env = dict(os.environ, MPLBACKEND="Agg")
        return subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout


# ---------------------------------------------------------------- the generated dataset
WORDS = [
    "the", "The", "THE", "a", "A", "an", "An", "cat", "Cat", "CAT", "theatre", "another", "apple",
    "Paris", "café", "CAFÉ", "naïve", "Straße", "STRASSE", "İstanbul", "ΟΔΟΣ", "Σίσυφος", "ΣΑΣ",
    "東京", "北京大学", "😀", "👍🏽", "مرحبا", "שלום", "e\u0301", "the\u0301", "a\u0300", "x_y",
    "co-op", "U.S.", "$100", "50%", "1,000", "3.14", "well-known", "“quoted”", "‘single’", "—",
    "…", "(paren)", "[bracket]", "don't", "O'Neil", "ﬁne", "Ⅻ", "٣٤", "x²", "½", "ǅemal", "ß",
    "fox", "dog", "river", "Denmark", "Normans", "10th", "century", "of", "and", "in", "to",
    "AN", "tHe", "a.", "the,", "an!", "ΑΝ", "Ⅰ", "_", "__init__", "e.g.", "i.e.", "façade",
]
SEPS = [" "] * 12 + ["  ", "\t", "\n", "\u00a0", "\u3000", "\x1c", "\x85", "\u200b", ", ", ". ", "; ", " - ", "\u2028"]


def make_dataset(rng):
    data = []
    qn = 0
    for a in range(6):
        paras = []
        for p in range(6):
            toks = [rng.choice(WORDS) for _ in range(rng.randint(8, 40))]
            seps = [rng.choice(SEPS) for _ in toks]
            context = ""
            spans = []  # (start, end) code point offsets of each token
            for t, s in zip(toks, seps):
                spans.append((len(context), len(context) + len(t)))
                context += t + s
            qas = []
            for _ in range(rng.randint(2, 6)):
                qid = "q%04d" % qn
                qn += 1
                answerable = rng.random() < 0.6
                answers = []
                k = rng.randint(1, 3) if answerable else rng.randint(0, 2)
                for _ in range(k):
                    i = rng.randrange(len(toks))
                    j = min(len(toks) - 1, i + rng.choice([0, 0, 1, 2, 4]))
                    st, en = spans[i][0], spans[j][1]
                    answers.append({"text": context[st:en], "answer_start": st})
                qa = {"id": qid, "question": "Question %d about %s?" % (qn, rng.choice(WORDS))}
                if answerable:
                    qa["answers"] = answers
                    qa["is_impossible"] = False
                else:
                    qa["answers"] = []
                    qa["plausible_answers"] = answers
                    qa["is_impossible"] = True
                qas.append(qa)
            paras.append({"context": context, "qas": qas})
        data.append({"title": "Article_%d" % a, "paragraphs": paras})
    # An answer whose text normalizes to nothing ("the"), and a repeated id (last one wins).
    data[0]["paragraphs"][0]["qas"].append(
        {"id": "q-article-only", "question": "?", "answers": [{"text": "the", "answer_start": 0}]})
    dup = dict(data[1]["paragraphs"][0]["qas"][0])
    dup["answers"] = []
    data[2]["paragraphs"][0]["qas"].append(dup)
    return {"version": "v2.0", "data": data}


def all_qas(squad):
    for art in squad["data"]:
        for p in art["paragraphs"]:
            for qa in p["qas"]:
                yield p["context"], qa


def perturb(rng, s):
    ops = [
        lambda s: s.upper(), lambda s: s.lower(), lambda s: "The " + s, lambda s: "a " + s + ".",
        lambda s: s + "!", lambda s: "  " + s.replace(" ", "\u00a0") + " ", lambda s: s.replace(" ", "\x1c"),
        lambda s: s.replace(" ", "\u3000"), lambda s: s + " an", lambda s: s[: max(1, len(s) // 2)],
        lambda s: s.replace("-", " "), lambda s: "(" + s + ")", lambda s: s + " " + s,
        lambda s: s.replace("e\u0301", "é"), lambda s: s.title(), lambda s: s + "\u0301",
    ]
    for _ in range(rng.randint(1, 2)):
        s = rng.choice(ops)(s)
    return s


def make_prediction(rng, context, qa, golds_pool):
    golds = [a["text"] for a in qa["answers"]] or [a["text"] for a in qa.get("plausible_answers", [])]
    r = rng.random()
    if r < 0.22 and golds:
        return rng.choice(golds)
    if r < 0.45 and golds:
        return perturb(rng, rng.choice(golds))
    if r < 0.6:
        i = rng.randrange(len(context))
        return context[i : i + rng.randint(1, 25)]
    if r < 0.75:
        return ""
    if r < 0.85:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
    if r < 0.93:
        return rng.choice(golds_pool)
    return rng.choice(["the", "  ", "...", "a an the", "\u200b", "\x85", "THE."])


def na_value(rng, style):
    if style == "ties":
        return round(rng.random(), 1)
    if style == "ints":
        return rng.choice([0, 1, 0.5, 0.25, 1.0])
    if style == "fine":
        return rng.random()
    return round(rng.random(), 3)


def make_cases(rng, runner, squad, n):
    qas = list(all_qas(squad))
    pool = [a["text"] for _, qa in qas for a in qa["answers"]] or ["x"]
    cases = []
    for c in range(n):
        preds = {}
        for context, qa in qas:
            preds[qa["id"]] = make_prediction(rng, context, qa, pool)
        if rng.random() < 0.2:
            preds["extra-%d" % c] = "ignored"
        na_probs = None
        pr = False
        if rng.random() < 0.75:
            style = rng.choice(["ties", "ints", "fine", "round3"])
            keys = list(preds)
            rng.shuffle(keys)
            na_probs = {k: na_value(rng, style) for k in keys if not k.startswith("extra-")}
            pr = rng.random() < 0.3
            if not pr and rng.random() < 0.2:
                na_probs["extra-na-%d" % c] = 0.5
        thresh = rng.choice([None, None, "1.0", "0.5", "0", "0.25", "-1", "1e-3", "%.3f" % rng.random()])
        out = runner.run(preds, na_probs, thresh, pr)
        cases.append({"name": "case%03d" % c, "preds": preds, "na_probs": na_probs, "thresh": thresh,
                      "pr": pr, "expected": out})
        if c % 20 == 0:
            print("case", c, file=sys.stderr)
    return cases


# ---------------------------------------------------------------- text-level goldens
def load_script_module(script):
    import importlib.util
    spec = importlib.util.spec_from_file_location("official_eval", script)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["official_eval"] = mod
    # The module imports numpy at the top; the venv has it but this interpreter may not.
    try:
        spec.loader.exec_module(mod)
    except ModuleNotFoundError:
        return None
    return mod


def codepoint_text(cp):
    c = chr(cp)
    return "A" + c + "the " + c + "x" + c + "\u03a3" + c + " an" + c


def codepoint_digests(normalize):
    digests = []
    for base in range(0, 0x110000, 4096):
        h = hashlib.sha256()
        for cp in range(base, base + 4096):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            h.update(normalize(codepoint_text(cp)).encode("utf-8", "surrogatepass"))
            h.update(b"\n")
        digests.append(h.hexdigest()[:16])
    return digests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", default=os.environ.get("SQUADKIT_VENV", "/tmp/squadkit-venv-scorer"))
    ap.add_argument("--cases", type=int, default=240)
    ap.add_argument("--setup-only", action="store_true",
                    help="only make the venv; print its python and the script's path")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.inner:
        return inner()
    py, script = setup(opts.venv)
    if opts.setup_only:
        print(py)
        print(script)
        return
    # Re-run this file inside the venv, where numpy (imported by the script) is available.
    sh(py, os.path.abspath(__file__), "--inner", "--cases", str(opts.cases),
       env=dict(os.environ, SQUADKIT_SCRIPT=script, SQUADKIT_PY=py))


def inner():
    script, py = os.environ["SQUADKIT_SCRIPT"], os.environ["SQUADKIT_PY"]
    n = int(sys.argv[sys.argv.index("--cases") + 1])
    os.makedirs(OUT, exist_ok=True)
    mod = load_script_module(script)
    rng = random.Random(20261127)
    squad = make_dataset(rng)
    with open(os.path.join(OUT, "dataset.json"), "w") as f:
        json.dump(squad, f, ensure_ascii=False, indent=1)
    runner = Runner(py, script, squad)
    cases = make_cases(rng, runner, squad, n)
    with open(os.path.join(OUT, "cases.jsonl"), "w") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")

    # Pairs: normalize_answer, compute_exact and compute_f1 of the script itself.
    pool = [a["text"] for _, qa in all_qas(squad) for a in qa["answers"] + qa.get("plausible_answers", [])]
    with open(os.path.join(OUT, "pairs.jsonl"), "w") as f:
        for _ in range(3000):
            g = rng.choice(pool + ["", "the", "a b c", "A  B"])
            p = make_prediction(rng, rng.choice(pool) + " " + rng.choice(WORDS), {"answers": [{"text": g}]}, pool)
            f.write(json.dumps([g, p, mod.normalize_answer(g), mod.normalize_answer(p),
                                mod.compute_exact(g, p), repr(mod.compute_f1(g, p))], ensure_ascii=False) + "\n")

    with open(os.path.join(OUT, "codepoints.json"), "w") as f:
        json.dump({"python": sys.version.split()[0], "text": "A{c}the {c}x{c}\u03a3{c} an{c}",
                   "chunk": 4096, "sha256_16": codepoint_digests(mod.normalize_answer)}, f, indent=1)

    dev = os.path.join(SHARED, "dev-v2.0.json")
    bert = os.path.join(SHARED, "predictions", "bert-single-google-v2.0-dev.json")
    if os.path.exists(dev) and os.path.exists(bert):
        with open(dev) as f:
            squad_dev = json.load(f)
        with open(bert) as f:
            bert_preds = json.load(f)
        runner = Runner(py, script, squad_dev)
        cases = {}
        for name, preds, na, thresh, pr in dev_variants(squad_dev, bert_preds):
            cases[name] = runner.run(preds, na, thresh, pr)
            print("dev", name, file=sys.stderr)
        # The shared files' SHA-256: the tests refuse to compare against goldens made from
        # other content (tests/src/lib.rs, `check_golden_inputs`).
        inputs = {os.path.relpath(p, SHARED): sha256(p) for p in (dev, bert)}
        with open(os.path.join(OUT, "dev_cases.json"), "w") as f:
            json.dump({"generator": "tools/gen_scorer_golden.py", "inputs": inputs, "cases": cases}, f, indent=1)
            f.write("\n")
    else:
        print("shared dev data absent: dev_cases.json not regenerated", file=sys.stderr)


def dev_variants(squad, bert):
    """Deterministic variants the Rust test rebuilds: i is the question's index in dataset order."""
    ids = [qa["id"] for _, qa in all_qas(squad)]
    # na_prob with many exact ties; the file lists ids in REVERSE dataset order, so that the
    # stable sort's tie order (file order) differs from dataset order.
    na = {qid: ((i * 7919) % 1009) / 1009.0 for i, qid in reversed(list(enumerate(ids)))}
    blank5 = {qid: ("" if i % 5 == 0 else bert[qid]) for i, qid in enumerate(ids)}
    return [
        ("bert", bert, None, None, False),
        ("bert_na", bert, na, None, False),
        ("bert_na_t05_pr", bert, na, "0.5", True),
        ("blank5_na_t03_pr", blank5, na, "0.3", True),
    ]


if __name__ == "__main__":
    main()
