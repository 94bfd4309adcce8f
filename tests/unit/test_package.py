"""The package as a whole: a light import, the public names, documented functions."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import audiolab

HEAVY = (
    "scipy",
    "torch",
    "transformers",
    "librosa",
    "matplotlib",
    "ipywidgets",
    "soundfile",
    "numba",
)
MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(audiolab.__path__, "audiolab.")
    if m.name != "audiolab.__main__"
)


def test_import_audiolab_loads_no_heavy_library() -> None:
    code = f"import sys, audiolab; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_design_names_are_public() -> None:
    for name in [
        "export_wav",
        "export_wav_batch",
        "normalize",
        "measure",
        "Store",
        "generate",
        "store",
    ]:
        assert callable(getattr(audiolab, name)) and name in audiolab.__all__
    assert issubclass(audiolab.AudioError, ValueError)
    for facade in ["AudioExporter", "AudioMetadataExtractor", "AudioFileManager"]:
        assert inspect.isclass(getattr(audiolab, facade))


def _public_callables():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        private = any(part.startswith("_") for part in module_name.split("."))
        # a private module's helpers are not API: only what it lists in __all__ is
        default = [] if private else [n for n in vars(module) if not n.startswith("_")]
        names = getattr(module, "__all__", default)
        for name in names:
            value = getattr(module, name)
            if getattr(value, "__module__", None) != module_name:
                continue
            if inspect.isfunction(value):
                yield f"{module_name}.{name}", value
            elif inspect.isclass(value):
                yield f"{module_name}.{name}", value
                for attribute, member in vars(value).items():
                    if inspect.isfunction(member) and not attribute.startswith("_"):
                        yield f"{module_name}.{name}.{attribute}", member


PUBLIC = dict(_public_callables())


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_function_has_a_numpydoc_docstring_with_examples(name: str) -> None:
    doc = inspect.getdoc(PUBLIC[name]) or ""
    assert doc, f"{name} has no docstring"
    if (
        inspect.isfunction(PUBLIC[name])
        and "." not in name.removeprefix("audiolab.").split(".", 1)[-1]
    ):
        assert "Examples\n--------" in doc, f"{name} has no Examples section"


@pytest.mark.parametrize("name", sorted(n for n, v in PUBLIC.items() if inspect.isfunction(v)))
def test_every_public_function_is_type_hinted(name: str) -> None:
    signature = inspect.signature(PUBLIC[name])
    assert signature.return_annotation is not inspect.Signature.empty, f"{name} has no return type"
    for parameter in signature.parameters.values():
        if parameter.name not in {"self", "cls"}:
            assert parameter.annotation is not inspect.Parameter.empty, f"{name}({parameter.name})"
