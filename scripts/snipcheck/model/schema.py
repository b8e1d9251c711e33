"""Types of manifest settings: a small vocabulary to declare what a check reads, and its validator.

A check declares its settings as `{key: Spec}` (see checks.py). `validate(value, spec)` returns
the problems as (path, message) pairs, e.g. (("run", "port"), "expected an integer, got 'http'"),
so the manifest loader can name the file and the line of the offending key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Problem = tuple[tuple[str, ...], str]


class Spec:
    """What a setting may hold; `describe()` is used in error messages."""

    def check(self, value: Any, path: tuple[str, ...]) -> list[Problem]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _got(value: Any) -> str:
    return f"got {type(value).__name__} {value!r}"[:120]


@dataclass(frozen=True)
class Scalar(Spec):
    """str, int, float (int accepted) or bool; `values` restricts a str to a vocabulary."""

    type: type
    values: tuple[str, ...] = ()

    def check(self, value: Any, path: tuple[str, ...]) -> list[Problem]:
        ok = isinstance(value, self.type) and not (self.type is not bool and isinstance(value, bool))
        if self.type is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            return [(path, f"expected {self.describe()}, {_got(value)}")]
        if self.values and value not in self.values:
            return [(path, f"{value!r} is not one of {list(self.values)}")]
        return []

    def describe(self) -> str:
        if self.values:
            return "one of " + ", ".join(self.values)
        return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}[self.type]


@dataclass(frozen=True)
class ListOf(Spec):
    item: Spec
    one_or_many: bool = False  # a single item is accepted in place of a list

    def check(self, value: Any, path: tuple[str, ...]) -> list[Problem]:
        if self.one_or_many and not isinstance(value, list):
            return self.item.check(value, path)
        if not isinstance(value, list):
            return [(path, f"expected a list of {self.item.describe()}, {_got(value)}")]
        return [p for i, v in enumerate(value) for p in self.item.check(v, (*path, str(i)))]

    def describe(self) -> str:
        return f"{'one or a list' if self.one_or_many else 'a list'} of {self.item.describe()}"


@dataclass(frozen=True)
class MapOf(Spec):
    """A mapping with free keys (strings) and values of one spec."""

    value: Spec

    def check(self, value: Any, path: tuple[str, ...]) -> list[Problem]:
        if not isinstance(value, Mapping):
            return [(path, f"expected a mapping of {self.value.describe()}, {_got(value)}")]
        return [p for k, v in value.items() for p in self.value.check(v, (*path, str(k)))]

    def describe(self) -> str:
        return f"a mapping of {self.value.describe()}"


@dataclass(frozen=True)
class Record(Spec):
    """A mapping with known keys; an unknown key is a problem (a misspelling would pass silently)."""

    fields: dict[str, Spec]
    required: tuple[str, ...] = ()
    doc: str = field(default="", compare=False)
    # what a test uses for a key the entry leaves out (Snippet.settings_for; `explain` shows them)
    defaults: dict[str, Any] = field(default_factory=dict, compare=False)

    def check(self, value: Any, path: tuple[str, ...]) -> list[Problem]:
        if not isinstance(value, Mapping):
            return [(path, f"expected a mapping with keys {sorted(self.fields)}, {_got(value)}")]
        problems = unknown_keys(value, self.fields, path)
        problems += [((*path, k), "is required") for k in self.required if k not in value]
        for key, spec in self.fields.items():
            if key in value:
                problems += spec.check(value[key], (*path, key))
        return problems

    def describe(self) -> str:
        return "a mapping with keys " + ", ".join(sorted(self.fields))


def unknown_keys(value: Mapping[str, Any], allowed: Iterable[str], path: tuple[str, ...] = ()) -> list[Problem]:
    allowed = sorted(allowed)
    return [
        ((*path, str(k)), f"unknown key; allowed here: {', '.join(allowed) or 'none'}")
        for k in value
        if k not in allowed
    ]


STR = Scalar(str)
INT = Scalar(int)
NUM = Scalar(float)
BOOL = Scalar(bool)
STRS = ListOf(STR)


def one_of(*values: str) -> Scalar:
    return Scalar(str, tuple(values))
