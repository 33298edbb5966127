"""One declarative source of truth for DFC's settings (fairclust.config.SETTINGS).

Everything derived from it is checked against it: the estimator's arguments, the command
line's flags, validation and coherence rules, the options each method takes, the README's
recipe table, and that every declared setting is read by the code. A setting added in a
fixture shows that adding one is one edit.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from fairclust import config
from fairclust.cli import build_parser
from fairclust.cli.args import add_setting_flags, method_options
from fairclust.config import SETTINGS, Follows, Setting, make_schedule, recipe_table, resolve
from fairclust.errors import FairclustError
from fairclust.methods import METHODS, DeepFairClustering, make_method
from fairclust.methods.base import signature_init
from fairclust.methods.dfc import RUN_PARAMS

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = [s for s in SETTINGS if s.public]


def test_every_public_setting_is_an_argument_and_a_flag():
    params = DeepFairClustering().get_params()
    parser = build_parser()
    for s in PUBLIC:
        assert s.name in params and params[s.name] is None, s.name  # None: the recipe's value
        value = {bool: None, int: "7", float: "0.5", str: (s.choices or ("x",))[-1]}[s.kind]
        argv = ["run", "--dataset", "x.npz"] + ([s.cli_flag] if value is None else [s.cli_flag, value])
        opts = method_options(parser.parse_args(argv))
        assert opts[s.name] not in (None,), s.name
    hidden = [s.name for s in SETTINGS if not s.public]
    assert not set(hidden) & set(params)  # recipe constants are not arguments


def test_recipe_params_show_the_values_before_fitting():
    model = DeepFairClustering(recipe="default", alpha_f=2.0)
    shown = model.recipe_params()
    assert shown["alpha_f"] == 2.0 and shown["teacher"] == "auto" and shown["epochs"] == 15.0
    assert DeepFairClustering(recipe="faithful").recipe_params()["fair_labels"] is None
    # a schedule planned from the group sizes alone: 15 passes over the largest group of 300 at b = 128
    sched = DeepFairClustering().plan_schedule(["a"] * 300 + ["b"] * 100)
    assert (sched.n_iters, sched.eval_every, sched.batch_size) == (15 * 3, 3, 128)
    assert make_schedule(resolve("faithful"), [300, 100]).n_iters == 1000


def _source_without_declarations() -> str:
    text = []
    for path in sorted((ROOT / "src" / "fairclust").rglob("*.py")):
        src = path.read_text()
        if path.name == "config.py":  # the declarations themselves do not count as a read
            src = inspect.getsource(config.make_schedule)
        text.append(src)
    return "\n".join(text)


def test_no_setting_is_settable_that_nothing_reads():
    source = _source_without_declarations()
    for s in SETTINGS:
        read = re.search(rf"(cfg|self\.s|\bs|self\.cfg|cfg_)\.{s.name}\b|config_(\[|\.get\()\"{s.name}\"|"
                         rf"_settings\([^)]*\"{s.name}\"", source)
        assert read, f"setting {s.name} is declared but no code reads it from a config"


def test_methods_take_the_settings_they_declare():
    for s in PUBLIC:
        for m in s.methods:
            assert s.name in inspect.signature(METHODS[m].__init__).parameters, (s.name, m)
    # the run command refuses a setting its method does not take, naming the methods that do
    with pytest.raises(FairclustError, match=r"method 'kmeans' does not take alpha_f \(--alpha-f\); the methods "
                                             r"that do: dfc"):
        make_method("kmeans", 3, 0, strict=True, alpha_f=2.0)
    # ... and a grid (not strict) routes it to the methods that take it only: DAC keeps its own total batch
    dac = make_method("dac", 3, 0, batch_size=7, pretrain_epochs=2)
    assert dac.batch_size == 128 and dac.pretrain_epochs == 2
    assert "latent_dim" not in inspect.signature(METHODS["clustergan"].__init__).parameters  # noise_dim now


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
    (dict(gamma=1), r"unknown DFC setting 'gamma'"),
])
def test_incoherent_or_invalid_settings_are_one_line_errors(overrides, message):
    with pytest.raises(FairclustError, match=message) as err:
        resolve("default", **overrides)
    assert "\n" not in str(err.value)


def test_switching_the_alignment_off_takes_its_dependants_along():
    cfg = resolve("default", align_groups=False)  # teacher targets and centres follow align_groups
    assert (cfg.target, cfg.init_centers) == ("self", "kmeans")
    assert (resolve("default").target, resolve("default").init_centers) == ("teachers", "teachers")
    assert resolve("faithful", align_groups=True, target="teachers").target == "teachers"
    cfg = resolve("default", n_iters=40)  # an explicit T replaces the data-sized epochs
    assert (cfg.epochs, cfg.n_iters) == (0.0, 40)
    with pytest.raises(dataclass_frozen_error()):
        cfg.n_iters = 3  # nobody mutates a config


def dataclass_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_show_config_prints_the_resolved_values(capsys):
    from fairclust.cli import main

    assert main(["run", "--dataset", "does-not-exist.npz", "--show-config", "--no-align-groups",
                 "--alpha-f", "3"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["alpha_f"] == 3.0 and shown["align_groups"] is False and shown["target"] == "self"
    assert set(shown) == {s.name for s in SETTINGS}


def test_readme_recipe_table_is_the_generated_one():
    assert recipe_table() in (ROOT / "README.md").read_text(), "regenerate it: python -m fairclust.config"


@pytest.fixture
def with_gamma():
    """A new DFC setting, declared in one place (what the README's "Adding a setting" shows)."""
    gamma = Setting("gamma", float, 0.5, "a new loss weight", recipes={"default": 2.0}, minimum=0)
    settings = SETTINGS + (gamma,)

    class WithGamma(DeepFairClustering):
        __init__ = signature_init(config.init_params(settings, RUN_PARAMS))

    WithGamma.settings = settings
    return settings, WithGamma


def test_a_setting_added_in_one_place_reaches_everything(with_gamma):
    settings, WithGamma = with_gamma
    assert resolve("default", settings=settings).gamma == 2.0 and resolve("faithful", settings=settings).gamma == 0.5
    assert WithGamma().get_params()["gamma"] is None
    assert WithGamma(gamma=3.0).recipe_params()["gamma"] == 3.0
    with pytest.raises(FairclustError, match="gamma must be finite and >= 0"):
        WithGamma(gamma=-1.0).recipe_params()
    import argparse

    p = argparse.ArgumentParser()
    add_setting_flags(p, settings)
    assert p.parse_args(["--gamma", "0.25"]).gamma == 0.25
    assert "| `gamma` | `--gamma` | 2 | 0.5 | 0.5 | a new loss weight |" in recipe_table(settings)


def test_follows_is_rendered_in_the_table():
    assert isinstance(config.BY_NAME["target"].recipes["default"], Follows)
    assert "teachers if align_groups=True / self if align_groups=False" in recipe_table()
