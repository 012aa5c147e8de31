"""The config package's contract: every section is a strict, frozen SectionModel, re-exported at the top."""

from __future__ import annotations

import pydantic
import pytest

import safecity.config as config
from safecity.config import MotionSettings, SectionModel, Settings


def test_every_exported_name_resolves() -> None:
    missing = [name for name in config.__all__ if not hasattr(config, name)]
    assert missing == []


def test_every_section_of_the_tree_is_a_section_model() -> None:
    sections = {
        name: f.annotation for name, f in Settings.model_fields.items() if isinstance(f.annotation, type)
    }
    models = {name: cls for name, cls in sections.items() if issubclass(cls, pydantic.BaseModel)}
    assert len(models) == 18
    assert all(issubclass(cls, SectionModel) for cls in models.values())


def test_sections_refuse_unknown_keys() -> None:
    with pytest.raises(pydantic.ValidationError, match="var_treshold"):
        MotionSettings.model_validate({"var_treshold": 40.0})


def test_sections_are_frozen() -> None:
    motion = MotionSettings()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        motion.history = 3  # type: ignore[misc]
