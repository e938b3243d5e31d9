"""The package's layers: a module imports only from its own layer and the layers below it, never upward or
sideways (README, "Architecture"). Every import counts, those inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "speech_emotion"

# Bottom to top; packages sharing a layer are side by side and import nothing of each other.
LAYERS = [
    ("core",),  # the modules at the package's top: audio, features, vad, normalization, model, bundle, recognizer
    ("corpora",),  # corpus readers, the feature cache, utterances with features and their statistics
    ("store",),
    ("reports", "robot"),
    ("monitor",),
    ("evaluation", "web"),
    ("training",),
    ("cli",),
]
PACKAGES = {"corpora", "reports", "robot", "monitor", "evaluation", "web", "training", "cli"}
TOP_OF_CORE = {"store": "store", "__main__": "cli"}  # top-level modules that are not core
LEVEL = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def part_of(module: str) -> str:
    """The layer part (a package name, ``store`` or ``core``) of ``speech_emotion.<module path>``."""
    first = module.split(".")[1] if "." in module else "__init__"
    if first in PACKAGES:
        return first
    return TOP_OF_CORE.get(first, "core")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every speech_emotion import in the file, relative ones resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *filter(None, [base])])
            found += [(node.lineno, f"{base}.{a.name}" if base == "speech_emotion" else base) for a in node.names]
    return [(line, m) for line, m in found if m == "speech_emotion" or m.startswith("speech_emotion.")]


def crossings(root: Path) -> list[str]:
    """Each import that goes up a layer or sideways, as ``file:line: importer -> imported``."""
    wrong = []
    for path in sorted(root.rglob("*.py")):
        importer = part_of(module_name(path, root))
        for line, imported in imports_of(path, root):
            target = part_of(imported)
            if target != importer and LEVEL[target] >= LEVEL[importer]:
                wrong.append(f"{path.relative_to(root.parent)}:{line}: {importer} -> {target} ({imported})")
    return wrong


def test_every_package_has_a_layer():
    found = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert found == PACKAGES


def test_no_import_crosses_a_layer_upward_or_sideways():
    assert crossings(PACKAGE) == []


@pytest.mark.parametrize(
    "importer, statement",
    [
        ("recognizer.py", "from speech_emotion.monitor.vad import VadConfig"),  # core -> monitor
        ("store.py", "from speech_emotion.reports import summary"),  # store -> reports
        ("reports/daily.py", "from speech_emotion.robot.client import RobotClient"),  # sideways
        ("evaluation/evaluate.py", "from ..training import trainer"),  # relative, sideways
        ("corpora/cache.py", "def f():\n    import speech_emotion.cli"),  # inside a function
    ],
)
def test_the_check_finds_an_upward_import(tmp_path, importer, statement):
    path = tmp_path / "speech_emotion" / importer
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(statement + "\n")
    assert len(crossings(tmp_path / "speech_emotion")) == 1


def test_the_check_allows_downward_imports(tmp_path):
    path = tmp_path / "speech_emotion" / "cli" / "predict.py"
    path.parent.mkdir(parents=True)
    path.write_text("from speech_emotion.recognizer import EmotionRecognizer\nfrom speech_emotion.monitor import x\n")
    assert crossings(tmp_path / "speech_emotion") == []
