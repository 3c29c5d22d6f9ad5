"""The recurrent cell: LSTM or GRU (``cell``), through every part of the
estimators that builds, trains, reads, saves or describes the network."""

import numpy as np
import pytest
import torch
from torch import nn

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._network import LSTMNetwork

FAST = dict(hidden_size=6, max_epochs=3, random_state=0)
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 9, 2))
Y = X[:, -3:, 0].sum(axis=1)
LABELS = np.where(Y > 0, "up", "down")


def test_gru_estimators_train_and_predict():
    """Check that cell="gru" builds GRU layers with three gates' weights and
    that both estimators fit and predict with them."""
    reg = LSTMRegressor(cell="gru", fcn_channels=(4, 4, 4), **FAST).fit(X, Y)
    assert isinstance(reg.module_.lstm, nn.GRU)
    assert reg.module_.lstm.weight_hh_l0.shape == (3 * 6, 6)
    assert np.isfinite(reg.predict(X)).all()
    clf = LSTMClassifier(cell="gru", **FAST).fit(X, LABELS)
    assert set(clf.predict(X)) <= {"up", "down"}
    assert "gru_0 (GRU)" in clf.summary()


def test_a_bidirectional_gru_reads_each_ragged_sequence_as_itself():
    """Check that a bidirectional GRU over sequences of differing lengths gives
    each sequence the outputs it gets alone (the backward pass starts at its
    own last step), as the LSTM does."""
    torch.manual_seed(0)
    net = LSTMNetwork(2, 1, hidden_size=5, num_layers=2, bidirectional=True, cell="gru")
    net.eval()
    x = torch.randn(3, 7, 2)
    lengths = torch.tensor([7, 4, 2])
    with torch.no_grad():
        together = net.encode(x, lengths)
        for i, n in enumerate(lengths.tolist()):
            alone = net.encode(x[i : i + 1, :n], torch.tensor([n]))
            torch.testing.assert_close(together[i, :n], alone[0])


def test_a_gru_model_round_trips_and_keeps_its_cell(tmp_path):
    """Check that a saved GRU model loads as a GRU and predicts identically,
    and that warm_start refuses to change the cell of a fitted model."""
    reg = LSTMRegressor(cell="gru", **FAST).fit(X, Y)
    back = sklstm.load(sklstm.save(reg, tmp_path / "gru.sklstm"))
    assert back.cell == "gru" and isinstance(back.module_.lstm, nn.GRU)
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))
    reg.set_params(warm_start=True, cell="lstm")
    with pytest.raises(ValueError, match="cannot change cell"):
        reg.fit(X, Y)


def test_keras_initialisation_of_a_gru():
    """Check that init="keras" gives a GRU orthogonal recurrent weights (over
    the three gates at once, as Keras) and zero biases (no forget gate)."""
    net = LSTMNetwork(2, 1, hidden_size=4, cell="gru", init="keras")
    for name, weight in net.lstm.named_parameters():
        if name.startswith("bias"):
            assert torch.count_nonzero(weight) == 0
    hh = net.lstm.weight_hh_l0.detach()  # (3 gates x 4, 4): orthogonal columns
    torch.testing.assert_close(hh.T @ hh, torch.eye(4), atol=1e-5, rtol=0)


def test_an_unknown_cell_is_refused():
    """Check that a cell other than 'lstm' or 'gru' gets a clear error."""
    with pytest.raises(
        ValueError, match="'cell' parameter of LSTMRegressor must be a str among.*'gru'"
    ):
        LSTMRegressor(cell="rnn", **FAST).fit(X, Y)
