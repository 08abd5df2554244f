"""M4/M5 math on a toy model whose reliance on a known feature direction is set by hand."""
from __future__ import annotations

import pytest
import torch

from grokconsole.evals import interventions as iv
from grokconsole.tasks.splits import EvalContext
from tests.evals.toy import ToyNet, toy_splits


@pytest.fixture(scope="module")
def splits():
    return toy_splits()


def _probe_and_ood(model, splits):
    ctx = EvalContext(model, splits)
    train, ood = splits[0], splits[2]
    probe = iv.fit_probe(ctx.outputs(train).features, train.shortcut, labels=train.y)
    return probe, ctx.outputs(ood).features, ood.y


def test_probe_finds_the_shortcut_dimension(splits) -> None:
    probe, _, _ = _probe_and_ood(ToyNet(), splits)
    assert probe.directions.shape == (4, 1)
    assert abs(float(probe.v_s[1])) > 0.95          # the shortcut lives in feature 1
    assert float(probe.v_s[1]) > 0                   # oriented towards stain class 1
    assert probe.probe_accuracy > 0.99
    assert 2.5 < probe.sigma < 3.5                   # spread of 3·(±1) + noise


def test_m4_ablating_the_shortcut_rescues_a_shortcut_model(splits) -> None:
    model = ToyNet(w_core=0.3, w_shortcut=1.0)
    probe, feats, y = _probe_and_ood(model, splits)
    raw, ablated = iv.m4_point(model.head, probe, feats, y)
    assert raw < 0.25                                # stain disagrees with the label OOD
    assert ablated > 0.95                            # without it the head reads the core feature


def test_m4_leaves_a_core_model_alone(splits) -> None:
    model = ToyNet(w_core=1.0, w_shortcut=0.0)
    probe, feats, y = _probe_and_ood(model, splits)
    raw, ablated = iv.m4_point(model.head, probe, feats, y)
    assert raw > 0.95 and abs(raw - ablated) < 0.03


def test_project_out_removes_variation_but_keeps_the_mean(splits) -> None:
    probe, feats, _ = _probe_and_ood(ToyNet(), splits)
    out = iv.project_out(feats, probe)
    along = (out - probe.mean) @ probe.v_s
    assert float(along.abs().max()) < 1e-4
    other = torch.tensor([1.0, 0.0, 0.0, 0.0])
    other = other - (other @ probe.v_s) * probe.v_s  # a direction orthogonal to v_s
    assert torch.allclose(out @ other, feats @ other, atol=1e-4)


def test_m5_sweep_shape_and_baseline(splits) -> None:
    model = ToyNet()
    probe, feats, y = _probe_and_ood(model, splits)
    alphas = [-3, -2, -1, 0, 1, 2, 3]
    sweep = iv.m5_sweep(model.head, probe, feats, y, alphas)
    assert [r["alpha"] for r in sweep] == alphas
    assert all(set(r) == {"alpha", "head_ood_acc"} and 0 <= r["head_ood_acc"] <= 1 for r in sweep)
    assert sweep[3]["head_ood_acc"] == pytest.approx(iv.head_accuracy(model.head, feats, y))
    # steering pushes all OOD samples to one class: accuracy moves towards the class balance
    assert sweep[0]["head_ood_acc"] > sweep[3]["head_ood_acc"] + 0.2


def test_steer_moves_features_by_alpha_sigma(splits) -> None:
    probe, feats, _ = _probe_and_ood(ToyNet(), splits)
    moved = iv.steer(feats, probe, 2.0)
    shift = (moved - feats) @ probe.v_s
    assert torch.allclose(shift, torch.full_like(shift, 2.0 * probe.sigma), atol=1e-4)


def test_multiclass_probe_has_k_minus_1_directions_and_single_class_fails(splits) -> None:
    feats = splits[0].x
    probe = iv.fit_probe(feats, torch.arange(len(feats)) % 3)
    assert probe.directions.shape == (4, 2)
    assert torch.allclose(probe.directions.T @ probe.directions, torch.eye(2), atol=1e-5)
    with pytest.raises(ValueError):
        iv.fit_probe(feats, torch.zeros(len(feats), dtype=torch.long))


def test_label_conditioning_keeps_the_label_direction_out(splits) -> None:
    feats, stain, y = splits[0].x, splits[0].shortcut, splits[0].y
    plain = iv.fit_probe(feats, stain)
    conditional = iv.fit_probe(feats, stain, labels=y)
    # the stain agrees with the label 90 % of the time: its plain mean effect leans on feature 0
    assert abs(float(plain.v_s[0])) > 0.2
    assert abs(float(conditional.v_s[0])) < 0.05
    model = ToyNet(w_core=1.0, w_shortcut=0.0)
    ood = splits[2]
    assert iv.m4_point(model.head, conditional, ood.x, ood.y)[1] > 0.95


def test_lda_probe_measures_decodability(splits) -> None:
    feats, stain = splits[0].x, splits[0].shortcut
    probe = iv.fit_probe(feats, stain, method="lda")
    assert probe.probe_accuracy > 0.99 and abs(float(probe.v_s[1])) > 0.95
    # after removal the stain is only decodable through the label-correlated core feature
    assert probe.residual_accuracy < 0.95
    with pytest.raises(ValueError):
        iv.fit_probe(feats, stain, method="pca")
