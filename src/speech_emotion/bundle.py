"""Model bundles: one self-contained file with everything needed to recognise emotions.

A bundle holds the weights, the network configuration, the class labels, the neutral-speech normalisation
statistics (one set per training corpus, and a pooled ``default`` for speech from anywhere else), its input
policy (:class:`~speech_emotion.preprocessing.Preprocessing`), a model id and free-form training metadata.
It is a ``torch.save`` file of plain tensors, numbers and strings, read back
with ``weights_only=True`` so opening a bundle cannot run code. Shipped bundles live in the package's
``models/`` folder and are found by name.

A fused bundle (:class:`FusedBundle`, ``speech-emotion fuse``) holds several such bundles, each with its own
input policy, and the weights and temperature that join their probabilities (:mod:`speech_emotion.fusion`).
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import torch

from speech_emotion.errors import BundleError
from speech_emotion.model import NetworkConfig, build_network, network_from_dict, network_to_dict
from speech_emotion.normalization import NormStats
from speech_emotion.preprocessing import Preprocessing

FORMAT = "speech-emotion-bundle"
VERSION = 1
DEFAULT_STATS = "default"
DEFAULT_MODEL = "combined4-fused"


@dataclass
class ModelBundle:
    config: NetworkConfig
    labels: list[str]
    state_dict: dict[str, torch.Tensor]
    normalization: dict[str, NormStats]
    model_id: str = ""
    metadata: dict = field(default_factory=dict)
    preprocessing: Preprocessing = field(default_factory=Preprocessing)

    def build_model(self) -> torch.nn.Module:
        """The network with the bundle's weights, in eval mode, float32."""
        model = build_network(self.config)
        model.load_state_dict(self.float_weights())
        return model.eval()

    def float_weights(self) -> dict[str, torch.Tensor]:
        """The weights in float32, whatever precision the file holds them in."""
        return {k: v.float() if v.is_floating_point() else v for k, v in self.state_dict.items()}

    def stats(self, name: str = DEFAULT_STATS) -> NormStats:
        if name not in self.normalization:
            known = ", ".join(sorted(self.normalization))
            raise BundleError(self.model_id or "bundle", f"no normalisation statistics named {name!r} (has {known})")
        return self.normalization[name]


@dataclass
class FusedBundle:
    """Several bundles heard as one model: each part's log-probabilities weighted, summed, divided by the
    temperature and renormalised (chosen on validation speakers by ``speech-emotion fuse``)."""

    parts: list[ModelBundle]
    weights: list[float]
    temperature: float = 1.0
    model_id: str = ""
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        if len(self.parts) < 2 or len(self.weights) != len(self.parts):
            raise ValueError(f"a fused bundle needs two or more parts with a weight each, not {len(self.parts)} "
                             f"parts and {len(self.weights)} weights")  # fmt: skip
        if any(part.labels != self.parts[0].labels for part in self.parts):
            raise ValueError("the parts of a fused bundle must have the same labels in the same order")
        if min(self.weights) < 0 or sum(self.weights) <= 0 or self.temperature <= 0:
            raise ValueError("fusion weights must be non-negative, not all zero, and the temperature positive")

    @property
    def labels(self) -> list[str]:
        return self.parts[0].labels


def save_bundle(bundle: ModelBundle | FusedBundle, path: str | os.PathLike, half: bool = False) -> str:
    """Write ``bundle`` atomically; ``half`` stores float weights as float16. Returns the model id."""
    payload = _payload(bundle, half)
    payload.pop("model_id", None)  # the id names the content: a digest of all but itself (parts keep theirs)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()[:12]
    name = bundle.model_id.rsplit("@", 1)[0] if bundle.model_id else Path(path).stem
    payload["model_id"] = bundle.model_id = f"{name}@{digest}"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return bundle.model_id


def _payload(bundle: ModelBundle | FusedBundle, half: bool) -> dict:
    if isinstance(bundle, FusedBundle):
        parts = [_payload(part, half) for part in bundle.parts]
        fusion = {"weights": list(bundle.weights), "temperature": bundle.temperature}
        return {"format": FORMAT, "version": VERSION, "parts": parts, "fusion": fusion, "metadata": bundle.metadata}
    weights = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in bundle.state_dict.items()
    }
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": network_to_dict(bundle.config),
        "labels": list(bundle.labels),
        "state_dict": weights,
        "normalization": {name: s.to_dict() for name, s in bundle.normalization.items()},
        "preprocessing": bundle.preprocessing.to_dict(),
        "metadata": bundle.metadata,
        "model_id": bundle.model_id,
    }


def load_bundle(name_or_path: str | os.PathLike) -> ModelBundle:
    """Read a single model's bundle from a path, or a shipped one by name; :class:`BundleError` says what is
    wrong, and that a fused bundle is not one model."""
    bundle = load_any_bundle(name_or_path)
    if isinstance(bundle, FusedBundle):
        raise BundleError(name_or_path, f"a fused bundle of {len(bundle.parts)} models; this needs a single model")
    return bundle


def load_any_bundle(name_or_path: str | os.PathLike) -> ModelBundle | FusedBundle:
    """Read a bundle, single or fused, from a path or a shipped bundle by name."""
    path = resolve_bundle(name_or_path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise BundleError(path, f"not a readable model bundle ({type(e).__name__})") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise BundleError(path, "not a speech-emotion model bundle")
    if payload.get("version") != VERSION:
        raise BundleError(path, f"bundle version {payload.get('version')} is not supported (expected {VERSION})")
    try:
        return _from_payload(payload)
    except (KeyError, TypeError, ValueError) as e:
        raise BundleError(path, f"incomplete model bundle ({e})") from e


def _from_payload(payload: dict) -> ModelBundle | FusedBundle:
    metadata = payload.get("metadata", {})
    if "parts" in payload:
        return FusedBundle(
            parts=[_from_payload(part) for part in payload["parts"]],
            weights=[float(w) for w in payload["fusion"]["weights"]],
            temperature=float(payload["fusion"]["temperature"]),
            model_id=payload["model_id"],
            metadata=metadata,
        )
    saved = payload.get("preprocessing")  # bundles from before the record: derived from their training settings
    return ModelBundle(
        config=network_from_dict(payload["config"]),
        labels=list(payload["labels"]),
        state_dict=payload["state_dict"],
        normalization={k: NormStats.from_dict(v) for k, v in payload["normalization"].items()},
        model_id=payload["model_id"],
        metadata=metadata,
        preprocessing=Preprocessing.from_metadata(metadata) if saved is None else Preprocessing.from_dict(saved),
    )


def shipped_models() -> dict[str, Path]:
    """Shipped bundles by name."""
    folder = resources.files("speech_emotion") / "models"
    if not folder.is_dir():
        return {}
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".pt")}


def resolve_bundle(name_or_path: str | os.PathLike) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_models()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    names = ", ".join(sorted(shipped)) or "none"
    raise BundleError(name_or_path, f"no such model bundle file, nor a shipped model name (shipped: {names})")
