"""The ``paper`` recipe against SPEC section 1.4, number by number, and Office-31's own settings.

SPEC 1.4 (authors' code): Adam, lr 1e-2, weight decay 5e-4, critic lr x10; before every step
lr_t = lr * (1 + 10 t/T)^(-0.75); T = 20,000 iterations at b = 512; alpha_f = alpha_s = 1
(Office-31: alpha_s = (512/128)^2 * 31/10 with b = 128); seed 2019. SPEC 1.1: Student's t
with alpha = 1. The numbers below are typed from the spec, not read from fairclust.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fairclust.cli import build_parser
from fairclust.cli.args import method_options
from fairclust.config import DFCConfig
from fairclust.methods import make_method
from fairclust.methods.dfc_training import DFCTrainer
from fairclust.nn import make_encoder
from fairclust.paper_settings import paper_overrides
from fairclust.schedule import make_schedule


def test_paper_recipe_is_spec_1_4():
    cfg = DFCConfig.resolve("paper")
    assert cfg.batch_size == 512
    assert cfg.n_iters == 20000
    assert cfg.lr == 1e-2
    assert cfg.weight_decay == 5e-4
    assert cfg.critic_lr_mult == 10
    assert cfg.alpha_f == 1 and cfg.alpha_s == 1
    assert cfg.t_alpha == 1
    assert cfg.align_groups is False  # the paper's method: no extension


def test_learning_rates_follow_the_spec_schedule():
    """After a step at iteration t, encoder + centres run at 1e-2 (1 + 10 t / T)^-0.75, the critic at 10x that."""
    torch.manual_seed(0)
    cfg = DFCConfig.resolve("paper")
    trainer = DFCTrainer(make_encoder((6,), 4), np.eye(3, 4, dtype=np.float32), 2, cfg, make_schedule(cfg, [600, 600]))
    x, p = torch.randn(8, 6), torch.softmax(torch.randn(8, 3), 1)
    g = torch.arange(2).repeat_interleave(4)
    for t in (0, 5000, 19999):
        trainer.step(t, x, p, g)
        want = 1e-2 * (1 + 10 * t / 20000) ** -0.75
        encoder_lr, critic_lr = (group["lr"] for group in trainer.optimizer.param_groups)
        assert encoder_lr == pytest.approx(want, rel=1e-12)
        assert critic_lr == pytest.approx(10 * want, rel=1e-12)
        assert all(group["weight_decay"] == 5e-4 for group in trainer.optimizer.param_groups)


def test_per_data_set_settings():
    assert paper_overrides("office31") == {"batch_size": 128, "alpha_s": pytest.approx(49.6)}
    assert paper_overrides("mtfl") == {"batch_size": 128}  # the paper: b = 128 for both ResNet-50 sets
    for name in ("mnist-usps", "reverse-mnist", "digits-reverse", "data.npz"):
        assert paper_overrides(name) == {}


def _options(*argv: str) -> dict:
    args = build_parser().parse_args(["run", *argv])
    return method_options(args, args.dataset)


def test_cli_applies_office31_settings_under_the_paper_recipe_only():
    assert build_parser().parse_args(["run", "--dataset", "x.npz"]).seed == 2019  # SPEC's seed is the default

    def dfc(*argv: str) -> dict:
        return make_method("dfc", 31, 0, strict=True, **_options(*argv)).recipe_params()

    cfg = dfc("--dataset", "office31", "--recipe", "paper")
    assert cfg["batch_size"] == 128 and cfg["alpha_s"] == pytest.approx(49.6)
    explicit = dfc("--dataset", "office31", "--recipe", "paper", "--batch-size", "256", "--alpha-s", "2")
    assert explicit["batch_size"] == 256 and explicit["alpha_s"] == 2.0  # the command line wins
    assert dfc("--dataset", "office31")["batch_size"] == 128 and dfc("--dataset", "office31")["alpha_s"] == 0.0
    assert dfc("--dataset", "office31", "--recipe", "faithful")["alpha_s"] == 1.0  # other recipes: their own
    mtfl = dfc("--dataset", "mtfl", "--recipe", "paper")
    assert mtfl["batch_size"] == 128 and mtfl["alpha_s"] == 1.0


@pytest.mark.parametrize("method", ["kmeans", "fcmi", "falg"])
def test_paper_settings_of_a_data_set_do_not_stop_other_methods(method):
    """The recipe's per-data-set values reach the methods that take them; the strict check of ``run`` is
    for what the user typed (it used to refuse kmeans and FCMI on office31 for settings never typed)."""
    est = make_method(method, 31, 0, strict=True, **_options("--dataset", "office31", "--recipe", "paper",
                                                                "--method", method))
    assert "alpha_s" not in est.recipe_params() and "batch_size" not in est.recipe_params()
