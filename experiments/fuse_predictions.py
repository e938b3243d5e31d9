"""Late fusion of two models' per-file probabilities, from ``evaluate --protocol ... --json`` files.

    python experiments/fuse_predictions.py A.json B.json [--protocol alone]

Each file's fused distribution is the normalised product p_A^w p_B^(1-w) (a weighted mean of log-probabilities,
so each model's calibration counts); w runs from 0 (B alone) to 1 (A alone). Printed per w: UA, sad recall and
the largest share of files any label gets; then w chosen on three corpora and scored on the fourth, for each
corpus in turn (what a weight chosen on validation speakers is worth on other speech).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np
from sklearn.metrics import recall_score

WEIGHTS = np.round(np.linspace(0, 1, 21), 2)


def load(path: str, protocol: str) -> dict[str, dict]:
    return {f["path"]: f for f in json.load(open(path))["protocols"][protocol]["files"]}


def fused(a: dict, b: dict, labels: list[str], w: float) -> list[str]:
    out = []
    for path in a:
        pa, pb = a[path]["probabilities"], b[path]["probabilities"]
        if pa is None or pb is None:
            out.append("no speech")
            continue
        log = [w * np.log(max(pa[k], 1e-9)) + (1 - w) * np.log(max(pb[k], 1e-9)) for k in labels]
        out.append(labels[int(np.argmax(log))])
    return out


def figures(truth: list[str], predicted: list[str], labels: list[str]) -> tuple[float, float, float]:
    present = [k for k in labels if k in truth]
    ua = recall_score(truth, predicted, labels=present, average="macro", zero_division=0)
    sad = np.mean([p == "sad" for t, p in zip(truth, predicted, strict=True) if t == "sad"])
    return ua, float(sad), max(Counter(predicted).values()) / len(predicted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--protocol", default="alone")
    args = parser.parse_args()
    a, b = load(args.a, args.protocol), load(args.b, args.protocol)
    a = {p: a[p] for p in a if p in b}
    labels = sorted({k for f in a.values() if f["probabilities"] for k in f["probabilities"]})
    truth = [a[p]["truth"] for p in a]
    print(f"{len(a)} files, protocol {args.protocol}\n")
    print("| w | UA | sad recall | largest share |\n| ---: | ---: | ---: | ---: |")
    for w in WEIGHTS:
        print("| {:.2f} | {:.3f} | {:.3f} | {:.2f} |".format(w, *figures(truth, fused(a, b, labels, w), labels)))
    corpora = sorted({f["corpus"] for f in a.values()})
    held_truth, held_predicted = [], []
    for corpus in corpora:
        train = {p: f for p, f in a.items() if f["corpus"] != corpus}
        best = max(
            WEIGHTS, key=lambda w: figures([f["truth"] for f in train.values()], fused(train, b, labels, w), labels)[0]
        )
        test = {p: f for p, f in a.items() if f["corpus"] == corpus}
        held_truth += [f["truth"] for f in test.values()]
        held_predicted += fused(test, b, labels, best)
        print(f"\n{corpus}: w {best:.2f} chosen on the others", end="")
    print(
        "\nweights chosen without each corpus: UA {:.3f}, sad recall {:.3f}, largest share {:.2f}".format(
            *figures(held_truth, held_predicted, labels)
        )
    )


if __name__ == "__main__":
    main()
