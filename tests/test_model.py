"""The ACRNN has the reference's structure and size and trains in both configurations."""

from __future__ import annotations

import torch

from speech_emotion.model import ACRNN, ACRNNConfig, count_parameters, flops_per_window


def test_reference_size_and_shapes():
    model = ACRNN(ACRNNConfig.reference()).eval()
    assert 7.2e6 < count_parameters(model) < 7.4e6
    assert model.linear.in_features == 2560 and model.linear.out_features == 768
    assert model.lstm.hidden_size == 128 and model.lstm.bidirectional
    with torch.inference_mode():
        logits, attention = model.forward_with_attention(torch.randn(2, 3, 300, 40))
    assert logits.shape == (2, 4)
    assert attention.shape == (2, 150)
    assert torch.allclose(attention.sum(dim=1), torch.ones(2))


def test_small_config_learns_a_separable_toy_task():
    torch.manual_seed(0)
    model = ACRNN(ACRNNConfig.small(2))
    x = torch.randn(16, 3, 300, 40)
    y = torch.arange(16) % 2
    x[y == 1, 0] += 1.0
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_flops_count_matches_the_layers():
    assert 13e9 < flops_per_window(ACRNNConfig.reference()) < 16e9


def test_config_round_trip():
    config = ACRNNConfig.small(3)
    assert ACRNNConfig.from_dict(config.to_dict()) == config
