"""The eGeMAPS peer: an RBF support vector machine on each utterance's 88 eGeMAPS functionals (scikit-learn's
``SVC``), the classic paralinguistics baseline every deep model here must beat.

The functionals are z-scored as the run's statistics strategy says (``global`` by default for this kind), with
statistics of *all* the training speech, not of its neutral part alone: the neutral spread of some functionals
is so narrow that z-scored emotional speech lies far out and the SVM fails (0.26-0.42 validation UA against
0.63; docs/experiments.md). An SVM is fitted for each ``C`` of :data:`C_GRID`, and each
is scored on the validation speakers through the recogniser's own path. As with the ACRNN, two bundles are kept:
the best validation UA and the best UA x sad recall. Fitting takes seconds.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import torch
from sklearn.svm import SVC

from speech_emotion.bundle import ModelBundle, save_bundle
from speech_emotion.corpora.examples import fit_normalization, statistics_for
from speech_emotion.evaluation.metrics import score
from speech_emotion.evaluation.protocols import predict_labels
from speech_emotion.model import SVMConfig
from speech_emotion.preprocessing import Preprocessing
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.training.trainer import BEST_UA, BEST_UA_SAD, METRICS, TrainingData, TrainResult, sad_recall_of

C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)


def train_functionals(
    data: TrainingData, statistics: str, out_dir: str | os.PathLike, name: str | None = None
) -> TrainResult:
    """Fit the SVM for each ``C``, keep the two best on validation in ``out_dir``; ``statistics``: the strategy."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or out_dir.name
    preprocessing = Preprocessing.of_kind("egemaps", statistics=statistics)
    stats = fit_normalization(data.train, data.corpora, neutral=False)
    train_stats = statistics_for(data.train, preprocessing, stats)
    valid_stats = statistics_for(data.valid, preprocessing, stats)
    x = np.concatenate([s.apply(e.features) for e, s in zip(data.train, train_stats, strict=True)])
    y = np.array([data.labels.index(e.utterance.label) for e in data.train])
    truth = [e.utterance.label for e in data.valid]
    best = {BEST_UA: (-1.0, 0), BEST_UA_SAD: (-1.0, 0)}
    with (out_dir / METRICS).open("w", newline="") as f:
        rows = csv.DictWriter(f, ["step", "C", "valid_ua", "valid_sad_recall", "valid_ua_x_sad"])
        rows.writeheader()
        for step, c in enumerate(C_GRID, start=1):
            bundle = _bundle(SVC(C=c, gamma="scale").fit(x, y), data, stats, preprocessing, name, c)
            scores = score(truth, predict_labels(EmotionRecognizer(bundle), data.valid, valid_stats), data.labels)
            sad = sad_recall_of(scores)
            rows.writerow({"step": step, "C": c, "valid_ua": scores.ua, "valid_sad_recall": sad,
                           "valid_ua_x_sad": scores.ua * sad})  # fmt: skip
            for file, selection, value in ((BEST_UA, "ua", scores.ua), (BEST_UA_SAD, "ua-sad", scores.ua * sad)):
                if value >= best[file][0]:  # ties go to the later model, as in the ACRNN's trainer
                    best[file] = (value, step)
                    bundle.model_id = f"{name}-{selection}"
                    bundle.metadata.update(selection=selection, valid_ua=scores.ua, valid_sad_recall=sad)
                    save_bundle(bundle, out_dir / file)
    steps = len(C_GRID)
    return TrainResult(out_dir, steps, steps, False, *best[BEST_UA], *best[BEST_UA_SAD])


def _bundle(
    svm: SVC, data: TrainingData, stats: dict, preprocessing: Preprocessing, name: str, c: float
) -> ModelBundle:
    config = SVMConfig(
        n_classes=len(data.labels),
        n_features=svm.support_vectors_.shape[1],
        n_support=tuple(int(n) for n in svm.n_support_),
        gamma=float(svm._gamma),
    )
    weights = {"support_vectors": svm.support_vectors_, "dual_coef": svm.dual_coef_, "intercept": svm.intercept_}
    return ModelBundle(
        config=config,
        labels=list(data.labels),
        state_dict={k: torch.tensor(v, dtype=torch.float32) for k, v in weights.items()},
        normalization=dict(stats),
        model_id=name,
        preprocessing=preprocessing,
        metadata={"trained_on": data.trained_on(), "classifier": {"kind": "sklearn.svm.SVC", "kernel": "rbf", "C": c}},
    )
