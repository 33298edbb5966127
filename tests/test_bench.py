"""``fairclust bench step``: the last line is a JSON record whose numbers agree."""

import json

import pytest
import torch

from fairclust.cli import main


def test_bench_step_json(capsys):
    torch.set_num_threads(1)
    assert main(["bench", "step", "--batch-size", "8", "--warmup", "1", "--repeats", "3", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rec["images_per_iter"] == 16 and rec["repeats"] == 3
    assert rec["ms_min"] <= rec["ms_per_iter"] <= rec["ms_max"]
    assert rec["img_per_s"] == pytest.approx(16 / (rec["ms_per_iter"] / 1e3))
    assert rec["peak_memory_mb"] > 0 and rec["cpu_ms_per_iter"] > 0
    # FLOPs of the SPEC networks: ~9 MFLOP forward per image, backward ~2x
    assert 0.2e9 < rec["gflop_per_iter"] * 1e9 < 0.8e9 and rec["sgemm_gflop_per_s"] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without a GPU")
def test_bench_step_cuda_without_gpu_is_a_clear_error(capsys):
    assert main(["bench", "step", "--device", "cuda", "--no-peak"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err
