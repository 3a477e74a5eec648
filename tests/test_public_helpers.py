"""zoo.last_valid (many-to-one outputs) and zoo.backbone (a bare network to set by hand)."""

from __future__ import annotations

import pytest
import torch

import zoo


def test_last_valid_gathers_each_rows_last_real_step():
    outputs = torch.arange(2 * 4 * 3, dtype=torch.float).view(2, 4, 3)
    got = zoo.last_valid(outputs, torch.tensor([2, 4]))
    assert torch.equal(got, torch.stack([outputs[0, 1], outputs[1, 3]]))
    assert torch.equal(zoo.last_valid(outputs), outputs[:, -1])


def test_last_valid_refuses_impossible_lengths():
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 4\]"):
        zoo.last_valid(torch.zeros(2, 4, 3), torch.tensor([0, 4]))


def test_last_valid_matches_the_unpadded_run_of_a_real_backbone():
    torch.manual_seed(0)
    net = zoo.backbone("gru", 3, hidden_size=5)
    x = torch.randn(3, 6, 3)
    lengths = torch.tensor([6, 2, 4])
    y, _ = net(x, None, lengths)
    got = zoo.last_valid(y, lengths)
    for row, n in enumerate(lengths.tolist()):
        alone, _ = net(x[row : row + 1, :n])
        torch.testing.assert_close(got[row], alone[0, -1])


def test_backbone_builds_a_bare_model_whose_weights_can_be_set():
    net = zoo.backbone("rnn", input_size=2, hidden_size=2, nonlinearity="identity", bias=False)
    assert isinstance(net, zoo.Model) and net.output_size == 2
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(1.0)
    y, h = net(torch.tensor([[[1.0, 1.0], [1.0, 1.0]]]))
    # h1 = W x1 = [2, 2]; h2 = W x2 + U h1 = [2, 2] + [4, 4]
    assert y.tolist() == [[[2.0, 2.0], [6.0, 6.0]]]


def test_backbone_errors_name_the_model_and_setting():
    with pytest.raises(zoo.ZooError, match="unknown setting 'hiden_size' for model 'rnn'"):
        zoo.backbone("rnn", 2, hiden_size=2)
    with pytest.raises(zoo.ZooError, match="unknown model"):
        zoo.backbone("nosuch", 2)
