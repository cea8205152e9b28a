"""Everything a rule may ask about the file it is checking, computed once and shared."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Collection, Optional

import libcst as cst
from libcst.metadata import MetadataWrapper

from ..analysis.mode_summaries import ProjectModeSummaries
from ..analysis.module_classes import ModuleClasses
from ..analysis.name_resolution import NameResolver
from ..fixes.node_edits import ModuleLayout
from .positions import NodePositions


@dataclass
class FileContext:
    """One parsed file. Shared analyses are built on first use and kept for every rule."""

    path: str
    wrapper: MetadataWrapper
    project_module_classes: Collection[str] = field(default_factory=frozenset)
    # How DRP001's fix turns the mode on: "module" (a registered module) or "training-flag".
    fix_style: str = "module"
    mode_summaries: ProjectModeSummaries = field(default_factory=ProjectModeSummaries)
    # Attribute names the project sets after construction: rates fixes must keep reading.
    reassigned_attributes: Collection[str] = field(default_factory=frozenset)
    # The text the module was parsed from, where the caller kept it.
    parsed_text: Optional[str] = None

    @property
    def module(self) -> cst.Module:
        return self.wrapper.module

    @cached_property
    def code(self) -> str:
        """The module's code: the text it was parsed from (libcst gives a text back exactly
        as it read it), rendered only where the caller did not keep that text."""
        return self.parsed_text if self.parsed_text is not None else self.module.code

    @cached_property
    def names(self) -> NameResolver:
        """What the file's names refer to, worked out on first use."""
        return NameResolver(self.module)

    @cached_property
    def classes(self) -> ModuleClasses:
        return ModuleClasses(self.module, self.names, self.project_module_classes, self.path)

    @cached_property
    def positions(self) -> NodePositions:
        """Where each node is, found on first use: only a file with a finding needs it,
        and it costs a rendering of the top-level statements asked about."""
        return NodePositions(self.layout, self.classes.parent)

    @cached_property
    def layout(self) -> ModuleLayout:
        """Where the module's top-level statements are in its text, for fixes' edits."""
        return ModuleLayout(self.module)
