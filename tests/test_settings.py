"""One way to declare a setting, for every method (fairclust.config, fairclust.settings).

Each method's settings are the fields of one declared frozen dataclass. Everything derived from
them is checked against them: the estimators' arguments, the command line's flags, validation and
coherence rules, which options each method takes, the recipe tables of docs/recipes.md, the cache
keys of the pretraining stages, and that every declared setting is read by the code. A setting
added in a fixture shows what adding one takes.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import re
import typing
from pathlib import Path

import numpy as np
import pytest
import torch

from fairclust import config
from fairclust.cache import StageCache
from fairclust.cli import build_parser
from fairclust.cli.args import add_setting_flags, method_options
from fairclust.config import SHARED_VAE, DFCConfig, FCMIConfig
from fairclust.errors import FairclustError
from fairclust.methods import METHODS, DeepFairClustering, make_method, public_settings
from fairclust.pretrain import STAGE_VERSIONS, Pretrainer
from fairclust.schedule import make_schedule
from fairclust.settings import Config, Follows, recipe_table, setting

ROOT = Path(__file__).resolve().parents[1]
RUN_OPTIONS = {"device", "cache_dir", "random_state", "verbose", "checkpoint_path", "checkpoint_every", "resume"}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_estimator_takes_exactly_its_public_settings(name):
    """``n_clusters``, ``recipe``, one argument per public setting of its config (default ``None``: the
    recipe's value), then run options; recipe constants are not arguments."""
    cls = METHODS[name]
    params = inspect.signature(cls.__init__).parameters
    args = [p for p in params if p not in ("self",)]
    assert args[:2] == ["n_clusters", "recipe"]
    settings = [a for a in args[2:] if a not in RUN_OPTIONS]
    assert sorted(settings) == sorted(p.name for p in cls.Config.public()), name
    assert all(params[s].default is None for s in settings)
    hidden = {p.name for p in cls.Config.params() if not p.public}
    assert not hidden & set(params)


def test_configs_are_declared_dataclasses_an_editor_sees():
    """The fields are written in fairclust/config.py (not generated at run time), with their types."""
    source = inspect.getsource(config)
    for cls in {c.Config for c in METHODS.values()}:
        assert dataclasses.is_dataclass(cls) and cls.__module__ == "fairclust.config"
        hints = typing.get_type_hints(cls)
        for p in cls.params():
            assert re.search(rf"^    {p.name}: ", source, re.M), p.name
            assert hints[p.name] is not None
    assert typing.get_type_hints(DFCConfig)["lr"] is float and DFCConfig().lr == 1e-2


def test_a_name_means_one_thing_everywhere():
    """Two methods that declare the same setting name declare the same help, type and flag; where the
    meaning differs the name does (DFC's per-group ``batch_size`` vs the others' ``batch_total``)."""
    seen: dict[str, tuple] = {}
    for name, cls in METHODS.items():
        for p in cls.Config.params():
            meaning = (p.help, p.kind, p.cli_flag, p.choices, p.public)
            assert seen.setdefault(p.name, meaning) == meaning, (name, p.name)
    flags = [p.cli_flag for p in public_settings().values()]
    assert len(flags) == len(set(flags))
    assert "batch_total" not in {p.name for p in DFCConfig.params()} and FCMIConfig.param("batch_size") is None


def test_every_public_setting_is_a_flag():
    parser = build_parser()
    for p in public_settings().values():
        value = {bool: None, int: "7", float: "0.5", str: (p.choices or ("x",))[-1]}[p.kind]
        argv = ["run", "--dataset", "x.npz"] + ([p.cli_flag] if value is None else [p.cli_flag, value])
        opts = method_options(parser.parse_args(argv))
        assert opts[p.name] is not None, p.name


def test_recipe_params_show_the_values_before_fitting():
    model = DeepFairClustering(recipe="default", alpha_f=2.0)
    shown = model.recipe_params()
    assert shown["alpha_f"] == 2.0 and shown["teacher"] == "auto" and shown["epochs"] == 15.0
    assert DeepFairClustering(recipe="faithful").recipe_params()["fair_labels"] is None
    assert DeepFairClustering(5, latent_dim=0).recipe_params()["latent_dim"] == 5  # 0: n_clusters
    # a schedule planned from the group sizes alone: 15 passes over the largest group of 300 at b = 128
    sched = DeepFairClustering().plan_schedule(["a"] * 300 + ["b"] * 100)
    assert (sched.n_iters, sched.eval_every, sched.batch_size) == (15 * 3, 3, 128)
    assert make_schedule(DFCConfig.resolve("faithful"), [300, 100]).n_iters == 1000


def _source_without_declarations() -> str:
    text = []
    for path in sorted((ROOT / "src" / "fairclust").rglob("*.py")):
        if path.name not in ("config.py", "settings.py"):  # the declarations do not count as a read
            text.append(path.read_text())
    return "\n".join(text)


def test_no_setting_is_settable_that_nothing_reads():
    source = _source_without_declarations()
    unread: list[str] = []
    for cls in {c.Config for c in METHODS.values()}:
        for p in cls.params():
            read = re.search(rf"(cfg|self\.s|\bs|self\.cfg|cfg_)\.{p.name}\b|config_(\[|\.get\()\"{p.name}\"", source)
            unread.extend([] if read else [f"{cls.__name__}.{p.name}"])
    assert not unread, f"declared but no code reads them from a config: {unread}"


def test_methods_take_the_settings_they_declare_and_refuse_the_others():
    with pytest.raises(FairclustError, match=r"method 'kmeans' does not take alpha_f \(--alpha-f\); the methods "
                                             r"that do: dfc"):
        make_method("kmeans", 3, 0, strict=True, alpha_f=2.0)
    # a grid (not strict) routes a setting to the methods that take it only: DAC keeps its own batch
    dac = make_method("dac", 3, 0, batch_size=7, pretrain_epochs=2)
    assert dac.recipe_params()["batch_total"] == 128 and dac.pretrain_epochs == 2
    assert make_method("fcmi", 3, 0, batch_total=64).recipe_params()["batch_total"] == 64


@pytest.mark.parametrize("overrides,message", [
    (dict(target="teachers", align_groups=False), r"target='teachers' needs align_groups=True"),
    (dict(init_centers="teachers", align_groups=False), r"init_centers='teachers' needs align_groups=True"),
    (dict(matching="fused", align_groups=False), r"matching is read only when align_groups=True"),
    (dict(teacher_epochs=3), r"teacher_epochs is read only when teacher='dec'"),
    (dict(dec_iters=3, teacher="umap"), r"dec_iters is read only when teacher='dec'"),
    (dict(n_iters=50, epochs=2), r"pass either n_iters or epochs, not both"),
    (dict(batch_size=0), r"batch_size must be finite and positive, got 0"),
    (dict(alpha_s=float("inf")), r"alpha_s must be finite and >= 0"),
    (dict(lr=True), r"lr must be a number"),
    (dict(latent_dim=-1), r"latent_dim must be finite and >= 0, got -1"),
    (dict(gamma=1), r"unknown DFC setting 'gamma'"),
])
def test_incoherent_or_invalid_settings_are_one_line_errors(overrides, message):
    with pytest.raises(FairclustError, match=message) as err:
        DFCConfig.resolve("default", **overrides)
    assert "\n" not in str(err.value)


def test_switching_the_alignment_off_takes_its_dependants_along():
    cfg = DFCConfig.resolve("default", align_groups=False)  # teacher targets and centres follow align_groups
    assert (cfg.target, cfg.init_centers, cfg.alpha_s) == ("self", "kmeans", 1.0)  # alpha_s follows target
    default = DFCConfig.resolve("default")
    assert (default.target, default.init_centers, default.alpha_s) == ("teachers", "teachers", 0.0)
    assert DFCConfig.resolve("faithful", align_groups=True, target="teachers").target == "teachers"
    cfg = DFCConfig.resolve("default", n_iters=40)  # an explicit T replaces the data-sized epochs
    assert (cfg.epochs, cfg.n_iters) == (0.0, 40)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_iters = 3  # nobody mutates a config


def test_show_config_prints_the_resolved_values(capsys):
    from fairclust.cli import main

    assert main(["run", "--dataset", "does-not-exist.npz", "--show-config", "--no-align-groups",
                 "--alpha-f", "3"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["alpha_f"] == 3.0 and shown["align_groups"] is False and shown["target"] == "self"
    assert set(shown) == {p.name for p in DFCConfig.params()}


def test_docs_recipe_tables_are_the_generated_ones():
    text = (ROOT / "docs" / "recipes.md").read_text()
    for heading, table in config.doc_tables().items():
        assert table in text, f"{heading}'s table is stale: regenerate them (fairclust recipes)"
    assert "teachers if align_groups=True / self if align_groups=False" in recipe_table(DFCConfig)
    assert isinstance(DFCConfig.param("target").recipes["default"], Follows)


@dataclasses.dataclass(frozen=True)
class WithGammaConfig(DFCConfig):
    """DFC with one more setting: what docs/development.md, "Adding a setting", shows."""

    gamma: float = setting(0.5, "a new loss weight", recipes={"default": 2.0}, minimum=0, stages=(SHARED_VAE,))


class WithGamma(DeepFairClustering):
    Config = WithGammaConfig

    def __init__(self, n_clusters: int = 10, *, gamma: float | None = None, **kwargs):
        super().__init__(n_clusters, **kwargs)
        self.gamma = gamma


def test_a_setting_declared_once_reaches_everything():
    assert WithGammaConfig.resolve("default").gamma == 2.0 and WithGammaConfig.resolve("faithful").gamma == 0.5
    assert WithGamma(recipe="paper").recipe_params()["gamma"] == 0.5
    assert WithGamma(gamma=3.0).recipe_params()["gamma"] == 3.0
    with pytest.raises(FairclustError, match="gamma must be finite and >= 0"):
        WithGamma(gamma=-1.0).recipe_params()
    p = argparse.ArgumentParser()
    add_setting_flags(p, {"dfc": WithGamma})
    assert p.parse_args(["--gamma", "0.25"]).gamma == 0.25
    assert "| `gamma` | `--gamma` | 2 | 0.5 | 0.5 | a new loss weight |" in recipe_table(WithGammaConfig)


def test_a_pretraining_setting_is_in_its_stage_cache_key(monkeypatch):
    """A stage's key holds every setting the stage reads (a new one included, by its declaration) and the
    stage's code version; a setting the stage does not read leaves the key alone."""
    X, codes = torch.zeros(4, 3), np.array([0, 0, 1, 1])

    def key(cfg: Config) -> str:
        return Pretrainer(X, codes, cfg, 0, torch.device("cpu"), StageCache(False)).stage_key(SHARED_VAE)

    base = WithGammaConfig.resolve("default")
    assert key(base) != key(base.replace(gamma=1.0))  # gamma declared as read by the shared VAE
    assert key(base) != key(base.replace(pretrain_epochs=3)) != key(base.replace(center_input=False))
    assert key(base) == key(base.replace(alpha_f=3.0, teacher="umap"))  # training and teacher settings
    before = key(base)
    monkeypatch.setitem(STAGE_VERSIONS, SHARED_VAE, STAGE_VERSIONS[SHARED_VAE] + 1)
    assert key(base) != before  # the stage's code changed


def test_umap_teacher_key_holds_its_constants():
    """The UMAP + GMM teachers' constants (min_dist, reg_covar, the canonical frame's size ...) are settings
    the stage reads: changing one's value changes the key (a stale cache is never reused)."""
    cfg = DFCConfig.resolve("default")
    read = cfg.stage_values("teachers_umap")
    assert {"umap_min_dist", "gmm_reg_covar", "canonical_size", "canonical_threshold", "umap_neighbors",
            "teacher_max_samples", "teacher_select_samples"} <= set(read)
    assert "alpha_f" not in read and "lr" not in read
