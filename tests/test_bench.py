"""``fairclust bench step`` and :mod:`fairclust.step_benchmark`: timings of known waits, FLOPs counted by hand."""

import json
import time
from types import SimpleNamespace

import pytest
import torch

from fairclust import step_benchmark as timing
from fairclust.cli import main

CPU = torch.device("cpu")


def spec_step_flops(b: int, k: int = 10, m: int = 2, latent: int = 64) -> int:
    """FLOPs (2 per multiply-add) of one DFC iteration's convolutions and matrix products, by
    hand from SPEC 1.1's networks on 1x32x32 images: n = m*b images, forward and backward."""
    n = m * b
    convs = [16 * 1 * 9 * 32 * 32, 32 * 16 * 9 * 16 * 16, 32 * 32 * 9 * 16 * 16, 16 * 32 * 9 * 8 * 8]  # per image
    linears = [1024 * 512, 512 * latent, 512 * latent, k * 32, 32 * 32, 32 * m]  # fc, mu, logvar, critic
    student_t = latent * k  # z @ centers^T
    affinity = b * b * k  # Q_g Q_g^T (and P_g P_g^T) per group
    forward = n * (sum(convs) + sum(linears) + student_t) + m * 2 * affinity
    # backward: the gradient of the input and of the weights, each as costly as the forward
    # product, except the first convolution (its input, the images, needs no gradient) and
    # the teachers' P P^T (no gradient at all)
    backward = n * (convs[0] + 2 * sum(convs[1:]) + 2 * sum(linears) + 2 * student_t) + m * 2 * affinity
    return 2 * (forward + backward)


def test_step_flops_match_the_hand_count():
    torch.set_num_threads(1)
    assert timing.step_flops(timing.make_problem(8, CPU)) == spec_step_flops(8) == 434_317_312
    assert timing.step_flops(timing.make_problem(4, CPU, n_clusters=5)) == spec_step_flops(4, k=5)


def test_timer_measures_wall_and_cpu_milliseconds():
    def busy(seconds=0.03):
        t0 = time.process_time()
        while time.process_time() - t0 < seconds:
            pass

    cpu = []
    wall = timing.time_ms(lambda: time.sleep(0.03), CPU, warmup=1, repeats=3, cpu_times=cpu)
    assert len(wall) == len(cpu) == 3
    assert all(30 <= w < 200 for w in wall), wall  # milliseconds of a 30 ms sleep
    assert all(c < 10 for c in cpu), cpu  # sleeping takes no CPU time
    cpu = []
    wall = timing.time_ms(busy, CPU, warmup=0, repeats=3, cpu_times=cpu)
    assert all(30 <= c < 60 for c in cpu), cpu  # a 30 ms busy loop
    assert all(w >= c - 1 for w, c in zip(wall, cpu)), (wall, cpu)


def test_bench_step_reports_the_median_of_the_timed_steps(monkeypatch):
    """A step that sleeps 10, 20, ..., 50 ms (after one warm-up): median 30 ms, 16 images at 30 ms each."""
    waits = iter([0.05, 0.01, 0.03, 0.05, 0.02, 0.04])

    def fake_problem(batch_size, device, *, n_groups, n_clusters):
        return SimpleNamespace(step=lambda: time.sleep(next(waits)))

    monkeypatch.setattr(timing, "make_problem", fake_problem)
    rec = timing.bench_step(8, "cpu", warmup=1, repeats=5, peak=False)
    assert rec["images_per_iter"] == 16
    assert 30 <= rec["ms_per_iter"] < 30 + 15 and 10 <= rec["ms_min"] < 25 and 50 <= rec["ms_max"] < 65
    assert rec["img_per_s"] == pytest.approx(16 / (rec["ms_per_iter"] / 1e3))


def test_bench_step_json(capsys):
    torch.set_num_threads(1)
    assert main(["bench", "step", "--batch-size", "8", "--warmup", "1", "--repeats", "3", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rec["images_per_iter"] == 16 and rec["repeats"] == 3
    assert rec["gflop_per_iter"] * 1e9 == pytest.approx(spec_step_flops(8))
    assert rec["peak_memory_mb"] > 0 and rec["cpu_ms_per_iter"] > 0 and rec["sgemm_gflop_per_s"] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without a GPU")
def test_bench_step_cuda_without_gpu_is_a_clear_error(capsys):
    assert main(["bench", "step", "--device", "cuda", "--no-peak"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err
