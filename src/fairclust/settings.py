"""How a setting is declared, resolved and checked; the declarations themselves are in :mod:`fairclust.config`.

Every method's settings are the fields of one frozen dataclass, a :class:`Config` subclass
(``DFCConfig``, ``FCMIConfig``, one per baseline), so an editor or a type checker sees
``cfg.lr``. Each field is declared with :func:`setting` (or a shared :class:`Setting`
called with its default): its type is the annotation, its value in the ``faithful`` recipe
the default, its other recipes' values, help text, range, CLI flag, the cached pretraining
stages that read it (they key their cache on it: :meth:`Config.stage_values`) and its
coherence rules travel in the field's metadata. From that one declaration come

* :meth:`Config.resolve`: a recipe's values with the user's overrides, validated (one-line
  errors for a value out of range and for incoherent combinations);
* the estimators' arguments (``None`` = the recipe's value; ``recipe_params()``);
* the command line's flags (:func:`fairclust.cli.args.add_setting_flags`), and which
  methods take which setting (:func:`fairclust.methods.make_method`);
* the recipe tables of docs/recipes.md (:func:`recipe_table`; a test keeps them in step).

A setting name means one thing everywhere: two methods that declare the same name declare
the same help, type and flag (``tests/test_settings.py`` checks it); where the meaning
differs, so does the name (DFC's ``batch_size`` is per group, FCMI's ``batch_total`` is not).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from .errors import FairclustError
from .validation import check_delta

RECIPE_NAMES = ("default", "faithful", "paper")


@dataclass(frozen=True)
class Follows:
    """A recipe value that depends on another setting's resolved value: ``values[other's value]``."""

    other: str
    values: Mapping[Any, Any]


@dataclass(frozen=True)
class Setting:
    """What a setting means and which values it takes; calling it with a default (and the
    recipes' values where they differ) declares a config field: ``lr: float = LR(1e-2)``."""

    help: str
    stages: tuple[str, ...] = ()  # cached pretraining stages that read it (their cache key holds its value)
    choices: tuple = ()
    minimum: float | None = None
    positive: bool = False  # > minimum (0) instead of >=
    fraction: bool = False  # an optional share in [0, 1): None / False switch it off (fair_labels)
    public: bool = True  # an estimator argument and a CLI flag; False: a recipe constant
    flag: str | None = None  # the CLI flag, when not --name-with-dashes
    only_if: tuple[str, Any] | None = None  # read only when setting ``only_if[0]`` equals ``only_if[1]``
    needs: Mapping[Any, tuple[str, Any]] = field(default_factory=dict)  # value -> (setting, value it needs)
    replaces: tuple[str, Any] | None = None  # setting it explicitly sets to a value, e.g. n_iters -> epochs 0
    metavar: str | None = None  # the CLI flag's value name, when not the default

    def __call__(self, value: Any, /, **recipes: Any) -> Any:
        unknown = set(recipes) - set(RECIPE_NAMES)
        if unknown:
            raise TypeError(f"unknown recipe(s) {sorted(unknown)}")
        return field(default=value, metadata={"setting": self, "recipes": types.MappingProxyType(recipes)})


def setting(value: Any, help: str, *, recipes: Mapping[str, Any] | None = None, **rules: Any) -> Any:
    """A config field whose setting one config alone declares: ``Setting(help, **rules)(value, **recipes)``,
    ``value`` being the ``faithful`` recipe's."""
    return Setting(help, **rules)(value, **dict(recipes or {}))


@dataclass(frozen=True)
class Param:
    """One declared field of a config: its name, type, values per recipe and :class:`Setting`."""

    name: str
    kind: type  # bool, int, float, str or tuple
    optional: bool  # annotated ``X | None``: None switches it off (or means "choose for me")
    default: Any  # the faithful recipe's value
    recipes: Mapping[str, Any]
    setting: Setting

    def __getattr__(self, attr: str) -> Any:  # help, stages, public, ... of the setting
        return getattr(self.setting, attr)

    @property
    def cli_flag(self) -> str:
        return self.setting.flag or "--" + self.name.replace("_", "-")

    def value_in(self, recipe: str) -> Any:
        return self.recipes.get(recipe, self.default)


def _kind(hint: Any) -> tuple[type, bool]:
    """``(type, optional)`` of an annotation such as ``int``, ``float | None`` or ``tuple[float, float]``."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        return _kind(rest[0])[0], True
    return (typing.get_origin(hint) or hint), False


@dataclass(frozen=True)
class Config:
    """Base of every method's settings (a frozen dataclass of declared fields)."""

    label: ClassVar[str] = "DFC"  # how errors name this method's settings
    recipes: ClassVar[tuple[str, ...]] = RECIPE_NAMES

    # ------------------------------------------------------------------ the declaration
    @classmethod
    def params(cls) -> tuple[Param, ...]:
        """Every declared field, in declaration order."""
        return _params(cls)

    @classmethod
    def param(cls, name: str) -> Param | None:
        return {p.name: p for p in cls.params()}.get(name)

    @classmethod
    def public(cls) -> tuple[Param, ...]:
        """The fields that are estimator arguments and CLI flags."""
        return tuple(p for p in cls.params() if p.public)

    # ------------------------------------------------------------------ values
    def to_dict(self) -> dict:
        return {p.name: getattr(self, p.name) for p in self.params()}

    @classmethod
    def from_dict(cls, d: Mapping) -> Any:
        known = {p.name for p in cls.params()}
        unknown = sorted(set(d) - known)
        if unknown:
            raise FairclustError(f"unknown {cls.label} setting(s) {', '.join(unknown)} in a saved config; "
                                 "re-fit the model with this fairclust")
        kinds = {p.name: p.kind for p in cls.params()}
        return cls(**{k: tuple(v) if kinds[k] is tuple else v for k, v in d.items()})

    def replace(self, **changes: Any) -> Any:
        return dataclasses.replace(self, **changes)

    def stage_values(self, stage: str) -> dict[str, Any]:
        """The settings that cached pretraining stage ``stage`` reads, by name: its cache key's settings."""
        return {p.name: getattr(self, p.name) for p in self.params() if stage in p.stages}

    # ------------------------------------------------------------------ resolution
    @classmethod
    def resolve(cls, recipe: str = "default", **overrides: Any) -> Any:
        """The recipe's config with the non-``None`` ``overrides`` applied, checked as a whole.

        Errors (one line each): an unknown recipe or setting, a value out of range, an explicit
        value for a setting the run would not read (``only_if``), two explicit settings that
        replace each other (``n_iters`` and ``epochs``), and a value that needs another setting
        it does not have (``target="teachers"`` without ``align_groups``).
        """
        if recipe not in cls.recipes:
            raise FairclustError(f"unknown {cls.label} recipe {recipe!r}; choose one of: {', '.join(sorted(cls.recipes))}")
        by_name = {p.name: p for p in cls.params()}
        given = {k: v for k, v in overrides.items() if v is not None}
        for name in given:
            if name not in by_name:
                public = sorted(p.name for p in cls.params() if p.public)
                raise FairclustError(f"unknown {cls.label} setting {name!r}; choose from: {', '.join(public)}")
        values: dict[str, Any] = {}
        for p in cls.params():  # plain recipe values first, then the explicit ones
            v = p.value_in(recipe)
            values[p.name] = None if isinstance(v, Follows) else v
        for name, v in given.items():
            values[name] = _coerce(by_name[name], v)
        for name in given:
            rule = by_name[name].replaces
            if rule is not None and rule[0] in by_name:
                other, to = rule
                if other in given:
                    raise FairclustError(f"pass either {name} or {other}, not both ({name} replaces {other} with "
                                         f"{to!r})")
                values[other] = to
        follows = {p.name: p.value_in(recipe) for p in cls.params()
                   if isinstance(p.value_in(recipe), Follows) and p.name not in given}
        while follows:  # recipe values that follow another setting (which may itself follow one)
            ready = [name for name, v in follows.items() if v.other not in follows]
            if not ready:
                raise ValueError(f"recipe values follow each other in a cycle: {sorted(follows)}")
            for name in ready:
                v = follows.pop(name)
                values[name] = v.values[values[v.other]]
        for name in given:
            p = by_name[name]
            if p.only_if is not None and p.only_if[0] in by_name and values[p.only_if[0]] != p.only_if[1]:
                other, want = p.only_if
                raise FairclustError(f"{name} is read only when {other}={want!r} (the {recipe} recipe has "
                                     f"{values[other]!r}); pass {other}={want!r} too or drop {name}")
            need = p.needs.get(values[name])
            if need is not None and values[need[0]] != need[1]:
                raise FairclustError(f"{name}={values[name]!r} needs {need[0]}={need[1]!r}; pass {need[0]}="
                                     f"{need[1]!r} or another {name}")
        cls._check(values, given, recipe)
        return cls(**values)

    @classmethod
    def _check(cls, values: dict[str, Any], given: dict[str, Any], recipe: str) -> None:
        """Rules between settings beyond ``only_if`` / ``needs`` / ``replaces`` (edits ``values`` in place)."""


@functools.cache
def _params(cls: type) -> tuple[Param, ...]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        s = f.metadata.get("setting")
        if s is None:
            raise TypeError(f"{cls.__name__}.{f.name} is not declared with a Setting")
        kind, optional = _kind(hints[f.name])
        out.append(Param(f.name, kind, optional, f.default, f.metadata["recipes"], s))
    return tuple(out)


def _coerce(p: Param, value: Any) -> Any:
    """``value`` as ``p`` takes it, or a one-line error naming the setting."""
    if p.fraction:
        if p.optional and (value is None or value is False):
            return None
        example = f"{p.name}={p.value_in('default')}"
        value = check_delta(value, p.name, example, hint=" (smaller is fairer)" if p.name == "fair_labels" else "")
        if p.positive and value == 0:
            raise FairclustError(f"{p.name} must be in (0, 1), got 0; e.g. {example}, or None to switch it off")
        return value
    if p.choices:
        if value not in p.choices:
            raise FairclustError(f"{p.name} must be one of {', '.join(p.choices)}; got {value!r}")
        return value
    if p.kind is bool:
        if isinstance(value, (bool, int)) and value in (0, 1):
            return bool(value)
        raise FairclustError(f"{p.name} must be True or False, got {value!r}")
    if p.kind is str:
        return str(value)
    if p.kind is tuple:
        return tuple(float(v) for v in value)
    if isinstance(value, bool):
        raise FairclustError(f"{p.name} must be a number ({p.kind.__name__}), got {value!r}")
    try:
        converted = p.kind(value)
    except (TypeError, ValueError, OverflowError):
        raise FairclustError(f"{p.name} must be a number ({p.kind.__name__}), got {value!r}") from None
    if p.kind is int and isinstance(value, float) and converted != value:
        raise FairclustError(f"{p.name} must be a whole number, got {value!r}")
    if p.kind is float and not math.isfinite(converted) and p.minimum is None:
        raise FairclustError(f"{p.name} must be finite, got {value!r}")
    if p.minimum is not None:
        ok = math.isfinite(converted) and (converted > p.minimum if p.positive else converted >= p.minimum)
        if not ok:
            what = "positive" if p.positive and p.minimum == 0 else (">" if p.positive else ">=") + f" {p.minimum:g}"
            raise FairclustError(f"{p.name} must be finite and {what}, got {value}")
    return converted


# ----------------------------------------------------------------------------- tables
def _shown(v: Any) -> str:
    if isinstance(v, Follows):
        return " / ".join(f"{val} if {v.other}={key}" for key, val in v.values.items())
    if v is None:
        return "off"
    if isinstance(v, tuple):
        return ", ".join(_shown(x) for x in v)
    return f"{v:g}" if isinstance(v, float) else str(v)


def recipe_table(config: type[Config], below: type[Config] | None = None) -> str:
    """Every setting of ``config`` with its value in each of its recipes, as Markdown (without those
    it inherits from ``below``)."""
    recipes = [r for r in RECIPE_NAMES if r in config.recipes]
    lines = ["| setting | flag | " + " | ".join(recipes) + " | what |", "|---" * (len(recipes) + 3) + "|"]
    inherited = {p.name for p in below.params()} if below is not None else set()
    for p in config.params():
        if p.name in inherited:
            continue
        flag = f"`{p.cli_flag}`" if p.public else "(recipe)"
        lines.append(f"| `{p.name}` | {flag} | " + " | ".join(_shown(p.value_in(r)) for r in recipes) +
                     f" | {p.help} |")
    return "\n".join(lines)
