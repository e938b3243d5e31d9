"""The training loop: Adam on class-balanced batches, validation at a fixed interval, two kept models.

Every ``eval_every`` batches the model is scored on the validation speakers exactly as the recogniser scores
speech (all windows of each utterance, pooled, normalised as the bundle's preprocessing says), and two bundles are
kept: the best validation UA and the best UA x sad recall (the reference's pick for a monitor that must not miss
sadness). Ties go to the later model, as in the reference. Metrics go to ``metrics.csv`` and TensorBoard.

With ``average_from`` the weights after that batch and every later one are averaged (stochastic weight
averaging, PyTorch's ``AveragedModel``, batch-norm statistics included, see :func:`running_mean`): a mean of
nearby weights sits in a flatter part of the loss surface, reported to transfer better to unseen domains than
any one of them (Cha et al., SWAD, 2021). From that batch on, validation scores the mean and the kept bundles
hold it.

A run is resumable: ``checkpoint.pt`` holds the weights, the optimiser, the random state, the step and the running
sums, and batches depend only on the seed and the batch number (see :mod:`.sampler`), so a resumed run ends with
the same weights and metrics as one that never stopped. Ctrl-C (or SIGTERM) finishes the current batch, saves a
checkpoint and stops; a hard kill loses at most the batches since the last validation.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn import functional
from torch.optim.swa_utils import AveragedModel, get_swa_multi_avg_fn
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from speech_emotion.bundle import ModelBundle, save_bundle
from speech_emotion.corpora.base import LABELS, Corpus, Unreadable
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.corpora.examples import (
    Example,
    examples_of,
    fit_normalization,
    one_emotion_corpora,
    statistics_for,
)
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.evaluation.metrics import Scores, score
from speech_emotion.evaluation.protocols import predict_labels
from speech_emotion.model import ACRNN
from speech_emotion.recognizer import EmotionRecognizer, resolve_device
from speech_emotion.training.augment import Augmentation
from speech_emotion.training.config import TrainConfig
from speech_emotion.training.dataset import WindowSet
from speech_emotion.training.sampler import BalancedSampler

log = logging.getLogger(__name__)

BEST_UA = "best-ua.pt"
BEST_UA_SAD = "best-ua-sad.pt"
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.csv"
TENSORBOARD = "tensorboard"
_CHECKPOINT_FORMAT = "speech-emotion-training-checkpoint"
_SAD = "sad"


class TrainingError(SpeechEmotionError):
    """A training run that cannot start or continue: ``"<path>: <reason>"``."""

    def __init__(self, path: object, reason: str):
        super().__init__(f"{path}: {reason}")


@dataclass
class TrainingData:
    """Training and validation utterances with features, and what could not be read."""

    corpora: list[Corpus]
    train: list[Example]
    valid: list[Example]
    unreadable: list[Unreadable]
    labels: list[str] = field(default_factory=lambda: list(LABELS))

    def trained_on(self) -> list[dict]:
        """What a bundle's metadata says of its training corpora."""
        return [
            {
                "corpus": c.name,
                "language": c.language,
                "train_utterances": sum(e.utterance.corpus == c.name for e in self.train),
            }
            for c in self.corpora
        ]


def prepare_data(corpora: Sequence[Corpus], cache: FeatureCache) -> TrainingData:
    """Features of every training and validation utterance of ``corpora`` (test speakers are never read)."""
    used = [u for c in corpora for u in c.utterances if u.split in ("train", "valid")]
    features = cache.load([u.path for u in used])
    train = examples_of([u for u in used if u.split == "train"], features)
    valid = examples_of([u for u in used if u.split == "valid"], features)
    if not train:
        raise TrainingError(", ".join(c.name for c in corpora), "no readable training utterances")
    if not valid:
        raise TrainingError(", ".join(c.name for c in corpora), "no readable validation utterances")
    return TrainingData(list(corpora), train, valid, features.unreadable)


@dataclass
class TrainResult:
    out_dir: Path
    step: int
    steps: int
    interrupted: bool
    best_ua: float
    best_ua_step: int
    best_ua_sad: float
    best_ua_sad_step: int

    @property
    def best_ua_path(self) -> Path:
        return self.out_dir / BEST_UA

    @property
    def best_ua_sad_path(self) -> Path:
        return self.out_dir / BEST_UA_SAD


@dataclass
class _Progress:
    """Everything besides weights and optimiser that a resumed run must continue from."""

    step: int = 0
    best_ua: float = -1.0
    best_ua_step: int = 0
    best_ua_sad: float = -1.0
    best_ua_sad_step: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    windows: int = 0
    batches: int = 0
    elapsed_s: float = 0.0


class Trainer:
    def __init__(
        self,
        data: TrainingData,
        config: TrainConfig,
        out_dir: str | os.PathLike,
        device: str = "cpu",
        name: str | None = None,
        progress: bool = True,
        initial: ModelBundle | None = None,
    ):
        """``initial``: a bundle whose weights the run starts from (fine-tuning) instead of random ones."""
        self.data = data
        self.config = config
        self.out_dir = Path(out_dir)
        self.device = resolve_device(device)
        self.name = name or self.out_dir.name
        self.progress = progress
        self.labels = data.labels
        self.stats = fit_normalization(data.train, data.corpora)  # stored in the bundle whatever the strategy
        one_emotion = one_emotion_corpora(e.utterance for e in data.train) if config.normalization == "hybrid" else ()
        self.preprocessing = config.preprocessing(tuple(sorted(one_emotion)))
        self.windows = WindowSet(
            data.train, statistics_for(data.train, self.preprocessing, self.stats), self.labels, config.hop
        )
        self.valid_stats = statistics_for(data.valid, self.preprocessing, self.stats)
        self.sampler = BalancedSampler(self.windows.classes, len(self.labels), config.batch_size, config.seed)
        self.augment = Augmentation.from_config(config)
        self.network = config.network(len(self.labels))
        if initial is not None and (initial.config, initial.labels) != (self.network, self.labels):
            raise TrainingError(
                initial.model_id,
                f"has another network or other labels than this run (--config {config.model}, labels "
                f"{', '.join(self.labels)})",
            )
        self.initial = initial

    def run(self, resume: bool = False) -> TrainResult:
        """Train to ``config.steps`` batches, from scratch or from ``checkpoint.pt`` with ``resume``."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = self.out_dir / CHECKPOINT
        if checkpoint.exists() and not resume:
            raise TrainingError(
                self.out_dir, "already holds a training run; continue it with --resume or use another --out"
            )
        if resume and not checkpoint.exists():
            raise TrainingError(checkpoint, "no checkpoint to resume from")
        model, optimizer, average = self._learners(resume)
        progress = self._load_checkpoint(checkpoint, model, optimizer, average) if resume else _Progress()
        metrics = _MetricsLog(self.out_dir / METRICS, self.labels, progress.step)
        writer = SummaryWriter(str(self.out_dir / TENSORBOARD), purge_step=progress.step + 1 if resume else None)
        interrupted = False
        bar = tqdm(total=self.config.steps, initial=progress.step, unit="batch", disable=not self.progress)
        started = time.perf_counter() - progress.elapsed_s
        with writer, bar, _stop_requests() as stop_requested:
            while progress.step < self.config.steps:
                x, y = self.windows.batch(self.sampler.batch(progress.step))
                if self.augment.enabled:
                    x, y = self.augment(x, y, len(self.labels), progress.step)
                result = train_step(model, optimizer, x, y, self.config.bf16)
                progress.step += 1
                if self._averaging(progress.step):
                    average.update_parameters(model)
                progress.loss_sum += result.loss
                progress.correct += result.correct
                progress.windows += len(y)
                progress.batches += 1
                progress.elapsed_s = time.perf_counter() - started
                bar.update()
                saved = False
                if progress.step % self.config.eval_every == 0 or progress.step == self.config.steps:
                    kept = average.module if self._averaging(progress.step) else model
                    self._validate(kept, progress, metrics, writer)
                    bar.set_postfix(loss=f"{metrics.last['train_loss']:.3f}", ua=f"{metrics.last['valid_ua']:.3f}")
                    self._save_checkpoint(checkpoint, model, optimizer, average, progress)
                    saved = True
                if stop_requested() and progress.step < self.config.steps:
                    if not saved:
                        self._save_checkpoint(checkpoint, model, optimizer, average, progress)
                    interrupted = True
                    break
        return TrainResult(
            self.out_dir,
            progress.step,
            self.config.steps,
            interrupted,
            progress.best_ua,
            progress.best_ua_step,
            progress.best_ua_sad,
            progress.best_ua_sad_step,
        )

    def validate(self, model: ACRNN) -> Scores:
        """Utterance-level scores on the validation speakers, through the recogniser's own path."""
        # building the recogniser initialises a network: keep that off the training run's random stream
        cuda = [torch.cuda.current_device()] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            recognizer = EmotionRecognizer(self.bundle(model, "", {}), device=str(self.device))
        predicted = predict_labels(recognizer, self.data.valid, self.valid_stats)
        return score([e.utterance.label for e in self.data.valid], predicted, self.labels)

    def bundle(self, model: ACRNN, selection: str, metadata: dict) -> ModelBundle:
        """A self-contained bundle of the model as it is now."""
        return ModelBundle(
            config=self.network,
            labels=list(self.labels),
            state_dict={k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            normalization=dict(self.stats),
            model_id=f"{self.name}-{selection}" if selection else "",
            preprocessing=self.preprocessing,
            metadata={
                "selection": selection,
                "trained_on": self.data.trained_on(),
                "train_config": self.config.to_dict(),
                **({"initialised_from": self.initial.model_id} if self.initial is not None else {}),
                **metadata,
            },
        )

    def _validate(self, model: ACRNN, progress: _Progress, metrics: _MetricsLog, writer: SummaryWriter) -> None:
        scores = self.validate(model)
        sad_recall = sad_recall_of(scores)
        ua_sad = scores.ua * sad_recall
        row = {
            "step": progress.step,
            "train_loss": progress.loss_sum / progress.batches,
            "train_accuracy": progress.correct / progress.windows,
            "valid_ua": scores.ua,
            "valid_wa": scores.wa,
            "valid_macro_f1": scores.macro_f1,
            **{f"valid_recall_{label}": scores.per_class[label]["recall"] for label in self.labels},
            "valid_ua_x_sad": ua_sad,
            "elapsed_s": progress.elapsed_s,
        }
        metrics.append(row)
        for key, value in row.items():
            if key.startswith(("train_", "valid_")):
                writer.add_scalar(key.replace("_", "/", 1), value, progress.step)
        validation = {"step": progress.step, "valid_ua": scores.ua, "valid_sad_recall": sad_recall}
        if scores.ua >= progress.best_ua:
            progress.best_ua, progress.best_ua_step = scores.ua, progress.step
            save_bundle(self.bundle(model, "ua", validation), self.out_dir / BEST_UA)
        if ua_sad >= progress.best_ua_sad:
            progress.best_ua_sad, progress.best_ua_sad_step = ua_sad, progress.step
            save_bundle(self.bundle(model, "ua-sad", validation), self.out_dir / BEST_UA_SAD)
        progress.loss_sum, progress.batches, progress.correct, progress.windows = 0.0, 0, 0, 0

    def _fingerprint(self) -> str:
        """What a resumed run must share with the one it continues: data and every setting but the length."""
        settings = self.config.fingerprint_settings()
        items = [
            (e.utterance.corpus, str(e.utterance.path.relative_to(c.root)), e.utterance.label, e.utterance.split)
            for c in self.data.corpora
            for e in self.data.train + self.data.valid
            if e.utterance.corpus == c.name
        ]
        started_from = {"initial": self.initial.model_id} if self.initial is not None else {}
        text = json.dumps({"settings": settings, "labels": self.labels, "items": items, **started_from})
        return hashlib.sha256(text.encode()).hexdigest()

    def _averaging(self, step: int) -> bool:
        """Whether the weights after batch ``step`` join the running mean (and the mean is what is validated)."""
        return self.config.averaging and step >= self.config.average_from

    def _learners(self, resume: bool) -> tuple[ACRNN, torch.optim.Optimizer, AveragedModel | None]:
        """A fresh network (or the starting bundle's, unless resuming), Adam, the running mean of the weights."""
        torch.manual_seed(self.config.seed)
        model = ACRNN(self.network).to(self.device)
        if self.initial is not None and not resume:
            model.load_state_dict(self.initial.float_weights())
        optimizer = torch.optim.Adam(model.parameters(), lr=self.config.learning_rate)
        average = AveragedModel(model, use_buffers=True, multi_avg_fn=running_mean) if self.config.averaging else None
        return model, optimizer, average

    def _save_checkpoint(
        self, path: Path, model: ACRNN, optimizer: torch.optim.Optimizer, average: AveragedModel | None, progress
    ) -> None:
        payload = {
            "format": _CHECKPOINT_FORMAT,
            "fingerprint": self._fingerprint(),
            "progress": vars(progress).copy(),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "average": average.state_dict() if average is not None else {},
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
        }
        tmp = path.with_name(path.name + ".tmp")
        torch.save(payload, tmp)
        os.replace(tmp, path)

    def _load_checkpoint(
        self, path: Path, model: ACRNN, optimizer: torch.optim.Optimizer, average: AveragedModel | None
    ) -> _Progress:
        try:
            payload = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as e:
            raise TrainingError(path, f"not a readable training checkpoint ({type(e).__name__})") from e
        if not isinstance(payload, dict) or payload.get("format") != _CHECKPOINT_FORMAT:
            raise TrainingError(path, "not a speech-emotion training checkpoint")
        if payload["fingerprint"] != self._fingerprint():
            raise TrainingError(path, "was made with other corpora, files or settings (only --steps may change)")
        model.load_state_dict(payload["model"])
        if average is not None:
            average.load_state_dict(payload["average"])
        optimizer.load_state_dict(payload["optimizer"])
        torch.set_rng_state(payload["torch_rng"].cpu())
        if payload["cuda_rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state_all([s.cpu() for s in payload["cuda_rng"]])
        progress = _Progress(**{k: v for k, v in payload["progress"].items() if k in _Progress.__dataclass_fields__})
        log.info("resuming %s at batch %d of %d", self.out_dir, progress.step, self.config.steps)
        return progress


def sad_recall_of(scores: Scores) -> float:
    """Validation sad recall (0 without sad speech): with UA, what the UA x sad recall bundle is chosen on."""
    return scores.per_class[_SAD]["recall"] if _SAD in scores.per_class else 0.0


@dataclass(frozen=True)
class StepResult:
    loss: float
    correct: int  # windows whose most probable class is the model's choice


SWA_MEAN = get_swa_multi_avg_fn()  # PyTorch's own running mean, for the float tensors


@torch.no_grad()
def running_mean(averaged: list[torch.Tensor], current: list[torch.Tensor], n_averaged: torch.Tensor) -> None:
    """Fold ``current`` into the running mean of ``n_averaged`` earlier weights (one dtype and device per call).

    Integer buffers, BatchNorm's batch counters, take the latest value: a mean of counts means nothing, and
    PyTorch's own averaging divides them with a CUDA kernel that rejects integers, so ``--average-from`` failed
    at its first batch on a GPU.
    """
    if averaged[0].is_floating_point():
        SWA_MEAN(averaged, current, n_averaged)
        return
    for counter, latest in zip(averaged, current, strict=True):
        counter.copy_(latest)


def train_step(
    model: ACRNN, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, bf16: bool = False
) -> StepResult:
    """One Adam step on a batch; ``y`` holds class indices, or probabilities (mixup), where "right" means the most
    probable one."""
    device = next(model.parameters()).device
    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(x)
    loss = functional.cross_entropy(logits.float(), y)
    loss.backward()
    optimizer.step()
    indices = y.argmax(dim=1) if y.is_floating_point() else y
    return StepResult(float(loss.detach()), int((logits.argmax(dim=1) == indices).sum()))


class _MetricsLog:
    """``metrics.csv``, one row per validation; on resume, rows after the checkpoint are dropped."""

    def __init__(self, path: Path, labels: Sequence[str], keep_until: int):
        self.path = path
        self.fields = [
            "step",
            "train_loss",
            "train_accuracy",
            "valid_ua",
            "valid_wa",
            "valid_macro_f1",
            *(f"valid_recall_{label}" for label in labels),
            "valid_ua_x_sad",
            "elapsed_s",
        ]
        rows = []
        if keep_until and path.exists():
            with path.open(newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= keep_until]
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, self.fields)
            writer.writeheader()
            writer.writerows(rows)
        self.last: dict = {}

    def append(self, row: dict) -> None:
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, self.fields).writerow(row)
        self.last = row


@contextlib.contextmanager
def _stop_requests():
    """Turn the first Ctrl-C or SIGTERM into a request to stop after the current batch; a second stops at once."""
    requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield requested.is_set
        return

    def request(signum, frame):
        if requested.is_set():
            raise KeyboardInterrupt
        requested.set()
        tqdm.write("stopping after this batch and saving a checkpoint (Ctrl-C again to stop at once)")

    previous = {s: signal.signal(s, request) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield requested.is_set
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
