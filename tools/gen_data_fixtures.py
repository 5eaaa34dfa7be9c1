#!/usr/bin/env python3
"""Small DATA files in every format `squadkit prepare` reads, written by the real libraries.

From tests/fixtures/preprocess/tricky_dataset.json (official JSON, made by
gen_preprocess_golden.py), flattened into the HF squad_v2 layout, this writes under
tests/fixtures/data/:
- tricky.jsonl: JSON lines (`datasets.Dataset.to_json`, the flat HF layout);
- tricky.parquet: parquet (`datasets.Dataset.to_parquet`, as the hub's files: pyarrow, snappy);
- tricky_large.parquet: the same with large_string columns and int64 answer_start (pyarrow);
- tricky_saved/: a `datasets` `save_to_disk` directory (Arrow IPC stream + dataset_info.json +
  state.json);
- tricky_dict/: a DatasetDict saved to disk (squadkit asks for one split's directory).

Usage: /tmp/squadkit-venv-pre/bin/python tools/gen_data_fixtures.py
"""

import json
import os
import shutil

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
out = os.path.join(root, "data")
os.makedirs(out, exist_ok=True)
with open(os.path.join(root, "preprocess", "tricky_dataset.json"), encoding="utf-8") as f:
    data = json.load(f)["data"]
rows = {"id": [], "title": [], "context": [], "question": [], "answers": []}
for article in data:
    for para in article["paragraphs"]:
        for qa in para["qas"]:
            rows["id"].append(qa["id"])
            rows["title"].append(article["title"])
            rows["context"].append(para["context"])
            rows["question"].append(qa["question"])
            rows["answers"].append({"text": [a["text"] for a in qa["answers"]], "answer_start": [a["answer_start"] for a in qa["answers"]]})
features = datasets.Features(
    {
        "id": datasets.Value("string"),
        "title": datasets.Value("string"),
        "context": datasets.Value("string"),
        "question": datasets.Value("string"),
        "answers": datasets.Sequence({"text": datasets.Value("string"), "answer_start": datasets.Value("int32")}),
    }
)
ds = datasets.Dataset.from_dict(rows, features=features)
ds.to_json(os.path.join(out, "tricky.jsonl"), force_ascii=False)
ds.to_parquet(os.path.join(out, "tricky.parquet"))
table = pa.table(
    {
        "id": pa.array(rows["id"], pa.large_string()),
        "title": pa.array(rows["title"], pa.large_string()),
        "context": pa.array(rows["context"], pa.large_string()),
        "question": pa.array(rows["question"], pa.large_string()),
        "answers": pa.array(
            rows["answers"],
            pa.struct([("text", pa.list_(pa.large_string())), ("answer_start", pa.list_(pa.int64()))]),
        ),
    }
)
pq.write_table(table, os.path.join(out, "tricky_large.parquet"))
for d in ["tricky_saved", "tricky_dict"]:
    shutil.rmtree(os.path.join(out, d), ignore_errors=True)
ds.save_to_disk(os.path.join(out, "tricky_saved"))
datasets.DatasetDict({"validation": ds}).save_to_disk(os.path.join(out, "tricky_dict"))
print(f"wrote {len(ds)} examples in each format under {out}")
