#!/usr/bin/env python3
"""Make the demo dataset: a templated SQuAD v2.0 task about generated people.

Each paragraph describes one generated person with three of five facts (birthplace,
instrument, profession, favourite colour, pet), in shuffled order and varied sentence templates,
plus a filler sentence. Every paragraph gets one question per fact kind: the facts the
paragraph states are answerable (the answer is a span of the paragraph), the two it leaves
out are unanswerable (SQuAD 2.0 `is_impossible`), so about 40% of the questions have no
answer and the always-no-answer baseline scores about 40 F1.

Names and towns are made of random syllables (towns end in -ford, -burg, -ton, ...), so the
held-out split's entities never occur in training: a model must read the paragraph, not
memorise facts. Only the standard library;
seeded, so the committed files are reproducible byte for byte.

Outputs (committed, compact JSON):
  examples/demo/train.json   SQuAD v2.0, --train paragraphs
  examples/demo/dev.json     SQuAD v2.0, --dev paragraphs (held-out entities)

Usage: python3 tools/gen_demo_data.py [--train 400] [--dev 80] [--seed 5]
"""
import argparse
import json
import os
import random

SYLLABLES = ["ka", "lo", "mi", "ren", "to", "va", "shi", "dor", "el", "bra", "nu", "ti",
             "sel", "mar", "qui", "zo", "fen", "ar", "ul", "pe", "gra", "vin", "o", "sta"]
INSTRUMENTS = ["violin", "harp", "flute", "cello", "lute", "oboe", "trumpet", "bagpipes", "piano",
               "accordion", "fiddle", "drum", "clarinet", "zither", "banjo"]
TOWN_SUFFIXES = ["ford", "burg", "ton", "field", "mouth", "haven", "dale", "wick"]
PROFESSIONS = ["glassmaker", "baker", "sailor", "clockmaker", "weaver", "astronomer", "potter",
               "carpenter", "teacher", "miller", "cartographer", "blacksmith", "gardener",
               "librarian", "fisherman", "painter", "surgeon", "tailor", "brewer", "mason"]
COLOURS = ["teal", "crimson", "amber", "violet", "ochre", "indigo", "scarlet", "silver",
           "olive", "maroon", "turquoise", "saffron", "cobalt", "ivory", "emerald"]
PETS = ["a grey parrot", "a lame donkey", "an old tortoise", "a black cat", "a loyal hound",
        "a tame fox", "a white goat", "a noisy goose", "a small ferret", "a blind pony"]
FILLERS = ["{n} kept a diary for most of {p} life.",
           "Neighbours remembered {n} as a quiet person.",
           "Few letters written by {n} survive.",
           "{n} rarely travelled far from home.",
           "A portrait of {n} hangs in the town hall.",
           "{n} never married."]

FACTS = {
    "birthplace": (["{n} was born in {a}.", "{n} came into the world in the town of {a}.",
                    "The town of {a} is where {n} was born."],
                   ["Where was {n} born?", "In which town was {n} born?", "What is the birthplace of {n}?"]),
    "instrument": (["{n} played the {a}.", "In the evenings, {n} played the {a}.", "{n} was fond of playing the {a}."],
                   ["What instrument did {n} play?", "Which instrument did {n} play?", "What did {n} play?"]),
    "profession": (["{n} worked as a {a}.", "By trade, {n} was a {a}.", "{n} earned a living as a {a}."],
                   ["What did {n} work as?", "What was the trade of {n}?", "What was {n}'s profession?"]),
    "colour": (["{n}'s favourite colour was {a}.", "{n} loved the colour {a} above all others.",
                "Above all, {n} liked {a}."],
               ["What was {n}'s favourite colour?", "Which colour did {n} like best?",
                "What colour did {n} love most?"]),
    "pet": (["{n} owned {a}.", "{n} lived with {a}.", "For many years {n} cared for {a}."],
            ["What animal did {n} own?", "What pet did {n} keep?", "Which animal lived with {n}?"]),
}


def word(rng, lo, hi):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(lo, hi))).capitalize()


def value(kind, rng):
    if kind == "birthplace":
        return word(rng, 1, 2) + rng.choice(TOWN_SUFFIXES)
    if kind == "instrument":
        return rng.choice(INSTRUMENTS)
    if kind == "profession":
        return rng.choice(PROFESSIONS)
    if kind == "colour":
        return rng.choice(COLOURS)
    return rng.choice(PETS)


def paragraph(rng, index, split):
    name = f"{word(rng, 1, 2)} {word(rng, 2, 3)}"
    kinds = list(FACTS)
    stated = rng.sample(kinds, 3)
    sentences, answers = [], {}
    for kind in stated:
        sentences.append((kind, rng.choice(FACTS[kind][0]), value(kind, rng)))
    rng.shuffle(sentences)
    filler = rng.choice(FILLERS).format(n=name, p=rng.choice(["his", "her"]))
    sentences.insert(rng.randint(0, len(sentences)), (None, filler, None))
    context = ""
    for kind, template, answer in sentences:
        if context:
            context += " "
        if kind is None:
            context += template
            continue
        before, after = template.split("{a}")
        before = before.format(n=name)
        start = len(context) + len(before)
        context += before + answer + after.format(n=name)
        answers[kind] = (answer, start)
    qas = []
    for k, kind in enumerate(kinds):
        question = rng.choice(FACTS[kind][1]).format(n=name)
        qid = f"{split}-{index:04d}-{k}"
        if kind in answers:
            text, start = answers[kind]
            assert context[start:start + len(text)] == text
            qas.append({"id": qid, "question": question, "answers": [{"text": text, "answer_start": start}],
                        "is_impossible": False})
        else:
            qas.append({"id": qid, "question": question, "answers": [], "is_impossible": True})
    return {"title": name, "paragraphs": [{"context": context, "qas": qas}]}


def dataset(rng, n, split):
    return {"version": "v2.0", "data": [paragraph(rng, i, split) for i in range(n)]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=int, default=400)
    ap.add_argument("--dev", type=int, default=80)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "examples", "demo"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for split, n, seed in [("train", args.train, args.seed), ("dev", args.dev, args.seed + 1000)]:
        rng = random.Random(seed)
        path = os.path.join(args.out, f"{split}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(dataset(rng, n, split), f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {path}: {n} paragraphs, {5 * n} questions")


if __name__ == "__main__":
    main()
