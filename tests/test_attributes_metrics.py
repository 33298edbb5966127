"""Several sensitive attributes in the metrics, the printed table, the composition figure and the report.

One small generated example throughout: two attributes, ``source`` (s0 twice as common as s1) and
``contrast`` (plain / inverted). The clusters keep every cluster's source shares at the data's
(Balance of source at its maximum, 0.5) but hold one contrast each (Balance of contrast 0, and of
the intersection 0). The expected numbers are counted here with plain loops, not by the module.
"""

from __future__ import annotations

import html
import json
import math
import types
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from fairclust import figures, metrics, runner
from fairclust.data import Dataset
from fairclust.errors import FairclustError
from fairclust.experiments import report
from fairclust.figures import composition

K = 4  # cluster 2 stays empty

# (source, contrast) -> samples per cluster: plain ones in clusters 0 and 1, inverted ones in cluster 3
PLAN = {("s0", "plain"): {0: 8, 1: 4}, ("s1", "plain"): {0: 4, 1: 2},
        ("s0", "inverted"): {3: 8}, ("s1", "inverted"): {3: 4}}


def example(seed: int = 0):
    """Cluster labels and the two attributes (shuffled)."""
    rows = [(c, s, t) for (s, t), per in PLAN.items() for c, n in per.items() for _ in range(n)]
    rows = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
    labels = np.array([r[0] for r in rows])
    return labels, {"source": np.array([r[1] for r in rows]), "contrast": np.array([r[2] for r in rows])}


def by_hand(labels, groups, k=K) -> dict:
    """Balance, its maximum, entropies and MNCE counted with loops (SPEC section 2)."""
    labels, groups = list(labels), [str(g) for g in groups]
    names = sorted(set(groups))
    sizes = [groups.count(g) for g in names]
    clusters = sorted(set(labels))  # the non-empty ones
    count = {(c, g): sum(1 for lab, grp in zip(labels, groups) if lab == c and grp == g)
             for c in clusters for g in names}

    def h(counts):
        total = sum(counts)
        return -sum(n / total * math.log(n / total) for n in counts if n)

    return {
        "groups": names,
        "group_sizes": sizes,
        "balance": min(min(count[c, g] for g in names) / max(count[c, g] for g in names) for c in clusters),
        "balance_max": min(sizes) / max(sizes),
        "entropy": [h([count[c, g] for c in clusters]) for g in names],
        "entropy_max": math.log(k),
        "mnce": min(h([count[c, g] for g in names]) for c in clusters) / h(sizes),
    }


def assert_entry(got: dict, want: dict) -> None:
    assert got["groups"] == want["groups"] and got["group_sizes"] == want["group_sizes"]
    for key in ("balance", "balance_max", "entropy_max", "mnce"):
        assert got[key] == pytest.approx(want[key], abs=1e-12), key
    assert got["entropy"] == pytest.approx(want["entropy"], abs=1e-12)


# ----------------------------------------------------------------------------- metrics
def test_attribute_report_each_attribute_and_the_intersection_by_hand():
    labels, attrs = example()
    rep = metrics.attribute_report(labels, attrs, n_clusters=K)
    assert set(rep) == {"attributes", "intersection"} and list(rep["attributes"]) == ["source", "contrast"]
    cells = [f"{s}/{t}" for s, t in zip(attrs["source"], attrs["contrast"])]
    assert_entry(rep["attributes"]["source"], by_hand(labels, attrs["source"]))
    assert_entry(rep["attributes"]["contrast"], by_hand(labels, attrs["contrast"]))
    assert_entry(rep["intersection"], by_hand(labels, cells))
    # what the example was built for: source at its maximum in every cluster, contrast and the cells absent
    src, con, cell = rep["attributes"]["source"], rep["attributes"]["contrast"], rep["intersection"]
    assert src["balance"] == pytest.approx(0.5) == src["balance_max"] and src["mnce"] == pytest.approx(1.0)
    assert con["balance"] == 0.0 and con["mnce"] == 0.0 and con["balance_max"] == pytest.approx(12 / 18)
    assert cell["balance"] == 0.0 and cell["groups"] == ["s0/inverted", "s0/plain", "s1/inverted", "s1/plain"]
    assert cell["group_sizes"] == [8, 12, 4, 6]
    # the intersection given by the caller (Dataset.sensitive) gives the same; plain JSON values throughout
    assert metrics.attribute_report(labels, attrs, n_clusters=K, intersection=np.array(cells)) == rep
    json.dumps(rep)
    # n_clusters defaults to the non-empty clusters
    assert metrics.attribute_report(labels, attrs)["intersection"]["entropy_max"] == pytest.approx(math.log(3))


def test_attribute_report_of_one_attribute_is_the_reports_and_ints_stay_ints():
    labels, attrs = example()
    site = np.arange(len(labels)) % 3
    rep = metrics.attribute_report(labels, {"site": site}, n_clusters=K)
    full = metrics.report(labels, sensitive_features=site, n_clusters=K)
    assert rep["attributes"]["site"] == rep["intersection"] == {k: full[k] for k in rep["intersection"]}
    assert rep["intersection"]["groups"] == [0, 1, 2] and all(type(g) is int for g in rep["intersection"]["groups"])
    three = metrics.attribute_report(labels, {**attrs, "site": site})
    assert three["intersection"]["groups"][0] == "s0/inverted/0"
    assert_entry(three["attributes"]["site"], by_hand(labels, site, k=3) | {"groups": [0, 1, 2]})


def test_attribute_report_refuses_bad_input_in_one_line():
    labels, attrs = example()
    with pytest.raises(FairclustError, match="'contrast' holds a single group") as err:
        metrics.attribute_report(labels, {**attrs, "contrast": np.array(["plain"] * len(labels))})
    assert "\n" not in str(err.value)
    with pytest.raises(FairclustError, match="sensitive attribute 'source' has 5"):
        metrics.attribute_report(labels, {**attrs, "source": attrs["source"][:5]})
    with pytest.raises(FairclustError, match="non-empty mapping"):
        metrics.attribute_report(labels, {})
    with pytest.raises(FairclustError, match="non-empty mapping"):
        metrics.attribute_report(labels, attrs["source"])
    with pytest.raises(FairclustError, match="'source' contains None or NaN"):
        metrics.attribute_report(labels, {**attrs, "source": np.array([None] * len(labels), dtype=object)})


# ----------------------------------------------------------------------------- runner
def dataset(attributes: bool = True) -> tuple[Dataset, np.ndarray]:
    labels, attrs = example()
    cells = np.array([f"{s}/{t}" for s, t in zip(attrs["source"], attrs["contrast"])])
    X = np.random.default_rng(0).normal(size=(len(labels), 3))
    y = (labels == 3).astype(int)
    ds = Dataset("toy", X, cells, y, sorted(set(cells.tolist())), attributes=attrs if attributes else None)
    return ds, labels


def test_evaluate_adds_the_attributes_only_when_the_data_set_has_them():
    ds, labels = dataset()
    rep = runner.evaluate(ds, labels, K)
    assert_entry(rep["attributes"]["source"], by_hand(labels, ds.attributes["source"]))
    assert_entry(rep["attributes"]["contrast"], by_hand(labels, ds.attributes["contrast"]))
    assert_entry(rep["intersection"], by_hand(labels, ds.sensitive))
    assert rep["intersection"]["balance"] == rep["balance"]  # the top-level groups are the intersection
    plain, _ = dataset(attributes=False)
    one = runner.evaluate(plain, labels, K)
    assert one == metrics.report(labels, sensitive_features=plain.sensitive, labels_true=plain.y, n_clusters=K)
    assert "attributes" not in one and "intersection" not in one


def record(name: str, **extra) -> dict:
    return {"dataset": name, "method": "kmeans", "accuracy": 0.5, "nmi": None, "balance": 0.25, "balance_max": 0.5,
            "entropy": [0.1, 0.2], "entropy_max": 1.0, "mnce": 0.3, "seconds": 1.0, **extra}


def test_results_table_with_and_without_attributes():
    head = "| dataset | method | Acc | NMI | Balance (of max) | Entropy per group (max) | MNCE | seconds |"
    row = "| {} | kmeans | 0.500 | - | 0.250 of 0.500 | 0.100 / 0.200 (1.000) | 0.300 | 1.0 |"
    assert runner.results_table([record("a"), record("b")]) == "\n".join(
        [head, "|---|---|---|---|---|---|---|---|", row.format("a"), row.format("b")])  # today's table
    ds, labels = dataset()
    rep = runner.evaluate(ds, labels, K)
    several = record("toy", attributes=rep["attributes"], intersection=rep["intersection"])
    lines = runner.results_table([record("a"), several]).split("\n")
    assert lines[0] == head + " Balance per attribute (of max) |"
    assert lines[1] == "|---|---|---|---|---|---|---|---|---|"
    assert lines[2] == row.format("a") + " - |"
    assert lines[3] == row.format("toy") + (" source 0.50 of 0.50; contrast 0.00 of 0.67; "
                                            "intersection 0.00 of 0.33 |")


# ----------------------------------------------------------------------------- figures
def test_composition_draws_each_attribute_and_the_intersection(tmp_path):
    labels, attrs = example()
    cells = [f"{s}/{t}" for s, t in zip(attrs["source"], attrs["contrast"])]
    names = sorted(set(cells))
    codes = np.array([names.index(c) for c in cells])
    res = composition.composition(tmp_path / "c.png", labels, codes, names, n_clusters=K, attributes=attrs,
                                  keep_figure=True)
    assert [p["attribute"] for p in res["panels"]] == ["source", "contrast", "intersection"]
    assert len(res["axes"]) == 3
    sizes = Counter(labels.tolist())
    for panel, values, ax in zip(res["panels"], [attrs["source"], attrs["contrast"], cells], res["axes"]):
        groups = sorted(set(np.asarray(values).tolist()))
        assert panel["groups"] == groups
        pairs = Counter(zip(labels.tolist(), np.asarray(values).tolist()))
        want = np.array([[pairs.get((c, g), 0) / sizes[c] if sizes.get(c) else 0.0 for g in groups]
                         for c in range(K)])
        np.testing.assert_allclose(panel["shares"], want, atol=1e-12)
        assert panel["sizes"].tolist() == [sizes.get(c, 0) for c in range(K)]
        counts = Counter(np.asarray(values).tolist())
        np.testing.assert_allclose(panel["overall"], [counts[g] / len(labels) for g in groups])
        widths = np.array([[p.get_width() for p in cont] for cont in ax.containers])  # M x (K + 1)
        np.testing.assert_allclose(widths[:, 0], panel["overall"])
        np.testing.assert_allclose(widths[:, 1:].T, panel["shares"])
    assert res["shares"] is res["panels"][-1]["shares"]  # the top-level numbers: the intersection's
    # source: every non-empty cluster at the data's shares (2 : 1); contrast: one value per cluster
    np.testing.assert_allclose(res["panels"][0]["shares"][[0, 1, 3]], [[2 / 3, 1 / 3]] * 3)
    assert set(res["panels"][1]["shares"][[0, 1, 3]].ravel().tolist()) == {0.0, 1.0}
    # one attribute (or none): today's single panel
    one = composition.composition(tmp_path / "one.png", labels, codes, names, n_clusters=K,
                                  attributes={"cell": np.array(cells)}, keep_figure=True)
    assert "panels" not in one and len(one["axes"]) == 1
    np.testing.assert_array_equal(one["shares"], res["shares"])


def test_for_run_writes_the_composition_of_every_attribute(tmp_path):
    est = types.SimpleNamespace()  # no history, no matching: composition only (feature vectors: no gallery)
    heights = {}
    for attributes in (False, True):
        ds, labels = dataset(attributes)
        out = tmp_path / str(attributes)
        out.mkdir()
        assert sorted(figures.for_run(out, ds, est, labels, K, seed=0)) == ["composition.png"]
        heights[attributes] = Image.open(out / "composition.png").size[1]
    assert abs(heights[True] - 3 * heights[False]) <= 2  # three panels of the one-attribute height
    assert figures.FIGURE_NAMES == tuple(figures.CAPTIONS)  # one file name however many attributes


# ----------------------------------------------------------------------------- report
def test_report_shows_each_attribute_and_the_intersection(tmp_path):
    ds, labels = dataset()
    for name, data in (("several", ds), ("one", dataset(attributes=False)[0])):
        (tmp_path / name).mkdir()
        rec = {"dataset": data.name, "method": "kmeans", "seconds": 1.0, **runner.evaluate(data, labels, K)}
        (tmp_path / name / "metrics.json").write_text(json.dumps(rec))
    page = report.build(tmp_path)
    section = page[page.index("<h3>Per sensitive attribute"):]
    section = section[:section.index("</table>")]
    rows = section.count("<tr>") - 1
    assert rows == 3  # source, contrast, intersection of the run "several"; none for "one"
    src = by_hand(labels, ds.attributes["source"])
    assert ('<td>several</td><td>source</td><td>s0 / s1</td><td class="n">0.5</td><td class="n">0.5</td>'
            f'<td class="n">{src["mnce"]:.4g}</td>') in section
    assert '<td>several</td><td>contrast</td><td>inverted / plain</td><td class="n">0</td>' in section
    cell = by_hand(labels, ds.sensitive)
    assert (f'<td>several</td><td>intersection</td><td>{html.escape(" / ".join(cell["groups"]))}</td>'
            f'<td class="n">0</td><td class="n">{cell["balance_max"]:.4g}</td>') in section
    only_one = tmp_path / "only"
    (only_one / "r").mkdir(parents=True)
    (only_one / "r" / "metrics.json").write_text((tmp_path / "one" / "metrics.json").read_text())
    assert "Per sensitive attribute" not in report.build(only_one)
