"""Attention pooling, the convolutional front ends and token embeddings."""

import pickle

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor

FAST = dict(hidden_size=8, max_epochs=2, batch_size=16, random_state=0)
rng = np.random.default_rng(0)


def _padded(X):
    """Samples 0-4 lead with 3 padding steps, 5-9 trail with 2."""
    X = X.copy()
    X[:5, :3] = np.nan
    X[5:10, -2:] = np.nan
    return X


# -- attention -------------------------------------------------------------------


@pytest.mark.parametrize("bidirectional", [False, True])
def test_attention_weights_sum_to_one_over_valid_steps(bidirectional):
    """Check that attention weights sum to one per sample, are zero on padding steps
    and positive on valid steps, with and without a bidirectional LSTM."""
    X = _padded(rng.normal(size=(40, 9, 2)))
    reg = LSTMRegressor(pooling="attention", bidirectional=bidirectional, **FAST)
    reg.fit(X, X[:, 4, 0])
    w = reg.attention_weights(X)
    assert w.shape == (40, 9)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)
    assert (w[:5, :3] == 0).all() and (w[5:10, -2:] == 0).all()
    assert (w[:5, 3:] > 0).all() and (w[10:] > 0).all()


def test_attention_weights_follow_the_samples_of_a_list():
    """Check that attention weights for a ragged list sum to one, are zero past each
    sequence's end, and do not depend on the other samples in the batch."""
    seqs = [rng.normal(size=(n, 2)) for n in (3, 7, 5)]
    reg = LSTMRegressor(pooling="attention", **FAST).fit(seqs, [0.0, 1.0, 2.0])
    w = reg.attention_weights(seqs)
    assert w.shape == (3, 7)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)
    assert (w[0, 3:] == 0).all() and (w[2, 5:] == 0).all()
    # a sequence's weights do not depend on what else is in the batch
    alone = reg.attention_weights([seqs[2]])
    np.testing.assert_allclose(alone[0], w[2, :5], atol=1e-6)


def test_attention_looks_where_the_signal_is():
    """Check that attention learns to sit where the signal is: each sequence carries
    a marker at one random step and the target is the value next to it. After
    training most of the attention sits on the marked step."""
    n, steps = 400, 10
    X = np.zeros((n, steps, 2))
    X[:, :, 0] = rng.normal(size=(n, steps))
    where = rng.integers(0, steps, size=n)
    X[np.arange(n), where, 1] = 1.0
    y = X[np.arange(n), where, 0]
    reg = LSTMRegressor(
        8, pooling="attention", max_epochs=40, lr=1e-2, random_state=0
    ).fit(X[:300], y[:300])
    w = reg.attention_weights(X[300:])
    on_marker = w[np.arange(100), where[300:]]
    assert np.median(on_marker) > 0.5  # uniform attention would give 1/10
    assert reg.score(X[300:], y[300:]) > 0.8


def test_attention_weights_need_attention_pooling():
    """Check that asking for attention weights from a model without attention pooling
    raises a ValueError that names pooling='attention' and the pooling in use."""
    X = rng.normal(size=(20, 5))
    reg = LSTMRegressor(**FAST).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="pooling='attention'.*pooling='last'"):
        reg.attention_weights(X)


# -- convolutional front end -------------------------------------------------------


@pytest.mark.parametrize("kernel", [3, 4])
def test_conv1d_front_end_ignores_padding(kernel):
    """Check that, with a convolutional front end, a padded sequence predicts what it
    predicts alone (padding re-zeroed after every convolution), for odd and even
    kernels."""
    X = _padded(rng.normal(size=(30, 8, 3)))
    reg = LSTMRegressor(conv_channels=(4, 6), conv_kernel_size=kernel, **FAST)
    reg.fit(X, rng.normal(size=30))
    assert reg.module_.front[0].convs[1].out_channels == 6
    together = reg.predict(X)
    for i in (0, 7, 20):
        valid = X[i][~np.isnan(X[i]).all(axis=1)]
        np.testing.assert_allclose(reg.predict(valid[None]), together[i], atol=1e-5)


@pytest.mark.parametrize("kernel", [3, 4])
def test_batch_norm_front_end_ignores_padding(kernel):
    """Check that the batch-norm convolutional front end has one norm per
    convolution, takes its running statistics from one pass over the training data
    after training, and that a padded sequence predicts what it predicts alone, for
    odd and even kernels."""
    X = _padded(rng.normal(size=(30, 8, 3)))
    reg = LSTMRegressor(
        conv_channels=(4, 6), conv_kernel_size=kernel, conv_batch_norm=True, **FAST
    ).fit(X, rng.normal(size=30))
    norms = reg.module_.front[0].norms
    assert [n.num_features for n in norms] == [4, 6]
    # the running statistics come from one pass over the training data after
    # training (refresh_batch_norm): 2 batches of 16
    assert all(int(n.num_batches_tracked) == 2 for n in norms)
    together = reg.predict(X)
    for i in (0, 7, 20):
        valid = X[i][~np.isnan(X[i]).all(axis=1)]
        np.testing.assert_allclose(reg.predict(valid[None]), together[i], atol=1e-5)


def test_batch_norm_statistics_come_from_valid_steps():
    """Check that one training step with momentum 1 leaves the batch's own statistics
    in the running ones and that they are those of the valid steps alone; padding
    stays zero and a lone one-step sample leaves the running statistics alone."""
    import torch

    from sklstm._layers import TimeConv

    torch.manual_seed(0)
    layer = TimeConv(2, (3,), 3, batch_norm=True)
    layer.norms[0].momentum = 1.0
    x = torch.randn(4, 6, 2)
    lengths = torch.tensor([6, 2, 4, 1])
    x[torch.arange(6) >= lengths[:, None]] = 0.0  # padding, as batches hold it
    layer.train()
    out = layer(x, lengths)
    conv = layer.convs[0](x.transpose(1, 2)).transpose(1, 2)  # (batch, steps, 3)
    valid = torch.arange(6) < lengths[:, None]
    expected = conv[valid]  # (13, 3): the valid steps only
    norm = layer.norms[0]
    torch.testing.assert_close(norm.running_mean, expected.mean(0).detach())
    torch.testing.assert_close(norm.running_var, expected.var(0).detach())
    assert not out[~valid].any()  # padding stays zero
    # one lone value per channel (a sample of one step) has no spread: it is
    # normalised with the running statistics, which it leaves alone
    before = norm.running_mean.clone()
    lone = layer(torch.randn(1, 1, 2), torch.tensor([1]))
    assert torch.isfinite(lone).all()
    torch.testing.assert_close(norm.running_mean, before)


def test_masked_norm_relu_trains_as_batch_norm_over_the_valid_steps():
    """Check that the fused batch norm + ReLU of ragged batches gives, in
    training, the outputs and gradients (input, weight, bias) of torch's own
    BatchNorm1d + ReLU applied to the valid steps gathered alone, zero at the
    padding, and passes torch's numerical gradient check."""
    import torch

    from sklstm._layers import BatchNorm1d, _MaskedNormReLU, masked_norm_relu

    torch.manual_seed(0)
    lengths = torch.tensor([7, 2, 5, 1])
    valid = torch.arange(7) < lengths[:, None]
    h = torch.randn(4, 3, 7, dtype=torch.float64)
    h[~valid.unsqueeze(1).expand_as(h)] = 5.0  # garbage at the padding
    norm = BatchNorm1d(3).double()
    torch.nn.init.uniform_(norm.weight, 0.5, 2.0)
    torch.nn.init.normal_(norm.bias)
    reference = torch.nn.BatchNorm1d(3).double()
    reference.load_state_dict(norm.state_dict())
    fused_in = h.clone().requires_grad_()
    fused = masked_norm_relu(norm, fused_in, valid)
    plain_in = h.clone().requires_grad_()
    steps = plain_in.transpose(1, 2)[valid]  # (13, 3): the valid steps alone
    plain = torch.relu(reference(steps))
    torch.testing.assert_close(fused.transpose(1, 2)[valid], plain)
    assert not fused.transpose(1, 2)[~valid].any()
    upstream = torch.randn_like(plain)
    fused_grads = torch.autograd.grad(
        (fused.transpose(1, 2)[valid] * upstream).sum(),
        (fused_in, norm.weight, norm.bias),
    )
    plain_grads = torch.autograd.grad(
        (plain * upstream).sum(), (plain_in, reference.weight, reference.bias)
    )
    for mine, theirs in zip(fused_grads, plain_grads, strict=True):
        torch.testing.assert_close(mine, theirs)
    torch.testing.assert_close(norm.running_mean, reference.running_mean)
    torch.testing.assert_close(norm.running_var, reference.running_var)
    mask = valid.unsqueeze(1).double()
    assert torch.autograd.gradcheck(
        lambda x, w, b: _MaskedNormReLU.apply(x, mask, w, b, 1e-5)[0],
        (h.clone().requires_grad_(), norm.weight, norm.bias),
    )


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("shape", [(24, 4, 8, 8), (24, 4, 8, 8, 3)])
def test_frame_encoder_on_image_sequences(shape, batch_norm):
    """Check that the frame encoder fits and predicts on grey and colour image
    sequences, with and without batch norm, skips all-NaN padding frames and refuses
    frames of another size."""
    X = rng.normal(size=shape)
    y = rng.integers(0, 2, size=24)
    clf = LSTMClassifier(conv_channels=(4, 8), conv_batch_norm=batch_norm, **FAST)
    clf.fit(X, y)
    assert clf.frame_shape_ == (8, 8, shape[4] if len(shape) == 5 else 1)
    assert clf.predict_proba(X).shape == (24, 2)
    # padding frames (all NaN) are skipped, as padding steps are
    padded = X.copy()
    padded[0, -1] = np.nan
    np.testing.assert_allclose(
        clf.predict_proba(padded[:1]), clf.predict_proba(X[:1, :-1]), atol=1e-6
    )
    with pytest.raises(ValueError, match="frames"):
        clf.predict(X[:, :, :4, :4])


def test_image_sequences_need_the_conv_front_end():
    """Check that fitting on image sequences without conv_channels raises a
    ValueError that names conv_channels."""
    X = rng.normal(size=(10, 4, 6, 6, 1))
    with pytest.raises(ValueError, match="conv_channels"):
        LSTMClassifier(**FAST).fit(X, np.arange(10) % 2)


def test_bad_conv_channels_are_refused():
    """Check that conv_channels with a zero entry is refused with a ValueError."""
    X = rng.normal(size=(10, 4, 2))
    with pytest.raises(ValueError, match="conv_channels must be a sequence"):
        LSTMRegressor(conv_channels=(4, 0), **FAST).fit(X, np.arange(10.0))


def _side_of_a_dot(n=200):
    """Two 8x8 frames with one bright pixel in column 1 or 5: the class is the
    column. Both columns have the same phase for 2x2 pooling and are clear of
    the border, so global average pooling sees exactly the same features for
    both classes; only the position tells them apart."""
    X = np.zeros((n, 2, 8, 8))
    y = rng.integers(0, 2, size=n)
    rows = rng.integers(2, 6, size=n)
    X[np.arange(n), :, rows, np.where(y == 1, 5, 1)] = 1.0
    return X, y


def test_flattened_frames_keep_position():
    """Check that frame_pooling="flatten" learns a task about position."""
    X, y = _side_of_a_dot()
    fast = dict(FAST, max_epochs=60, lr=1e-2)
    flat = LSTMClassifier(conv_channels=(4,), frame_pooling="flatten", **fast)
    flat.fit(X[:150], y[:150])
    assert flat.score(X[150:], y[150:]) >= 0.9
    assert flat.module_.front[0].out_features == 4 * 4 * 4  # 4 channels x 4 x 4
    assert "frame_pool (Flatten)  " in flat.summary()
    assert "(None, 2, 64)" in flat.summary()
    average = LSTMClassifier(conv_channels=(4,), **fast).fit(X[:150], y[:150])
    assert "frame_pool (GlobalAvgPool)" in average.summary()
    assert average.score(X[150:], y[150:]) <= 0.75  # blind to position: chance


# -- token embeddings ----------------------------------------------------------------


def _tokens():
    T = rng.integers(1, 40, size=(60, 8))
    T[:10, :3] = 0  # leading padding
    T[10:20, -2:] = 0  # trailing padding
    return T, (T[:, 2] > 20).astype(int)


def test_embedding_reads_arrays_and_lists_alike():
    """Check that a token embedding learns the vocabulary size from the data,
    predicts the same for a zero-padded array of token ids as for the list of its
    unpadded sequences, and can also be fitted on that list."""
    T, y = _tokens()
    clf = LSTMClassifier(embedding_dim=5, **FAST).fit(T, y)
    assert clf.vocab_size_ == T.max() + 1 and clf.n_channels_in_ == 1
    seqs = [t[t > 0] for t in T]
    np.testing.assert_allclose(clf.predict_proba(seqs), clf.predict_proba(T), atol=1e-6)
    ragged = LSTMClassifier(embedding_dim=5, **FAST).fit(seqs, y)
    assert ragged.predict(seqs).shape == (60,)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([[1, 2, 99]]), "token id 99, unseen in fit"),
        (np.array([[1, 0, 3]]), "padding id 0 at time step 1, between tokens"),
        (np.array([[0, 0, 0]]), "holds only padding"),
        (np.array([[1.5, 2, 3]]), "1.5, which is no token id"),
        (np.array([[-1, 2, 3]]), "token id -1"),
        (np.ones((2, 3, 1), dtype=int), "2-D token ids"),
    ],
)
def test_bad_token_input_is_refused(bad, message):
    """Check that bad token input (unseen, non-integer or negative ids, padding
    between tokens, only padding, the wrong number of dimensions) is refused with a
    ValueError saying what is wrong."""
    T, y = _tokens()
    clf = LSTMClassifier(embedding_dim=5, **FAST).fit(T, y)
    with pytest.raises(ValueError, match=message):
        clf.predict(bad)


# -- every part together -------------------------------------------------------------


def test_summary_shows_every_part():
    """Check that summary() lists the embedding, convolution, bidirectional LSTM and
    attention layers, states the module's total parameter count, and that its
    per-layer counts add up to that total."""
    T, y = _tokens()
    clf = LSTMClassifier(
        embedding_dim=5,
        conv_channels=(6,),
        pooling="attention",
        bidirectional=True,
        num_layers=2,
        **FAST,
    ).fit(T, y)
    table = clf.summary()
    for part in ("embedding", "conv1d_0", "lstm_1 (Bidirectional LSTM)", "attention"):
        assert part in table
    total = sum(p.numel() for p in clf.module_.parameters())
    assert f"Total params: {total:,}" in table
    rows = [line for line in table.splitlines() if line.count("(") >= 2]
    assert sum(int(r.split()[-1].replace(",", "")) for r in rows) == total


def test_summary_counts_batch_norm():
    """Check that summary() shows the batch-norm layers, for sequences and image
    sequences alike, and that its per-layer parameter counts add up to the module's
    total."""
    X = rng.normal(size=(20, 6, 2))
    V = rng.normal(size=(20, 3, 6, 6, 2))
    for data in (X, V):
        clf = LSTMClassifier(conv_channels=(4, 5), conv_batch_norm=True, **FAST)
        table = clf.fit(data, np.arange(20) % 2).summary()
        assert "BatchNorm" in table
        total = sum(p.numel() for p in clf.module_.parameters())
        rows = [line for line in table.splitlines() if line.count("(") >= 2]
        assert sum(int(r.split()[-1].replace(",", "")) for r in rows) == total


def test_warm_start_refuses_a_new_front_end():
    """Check that warm_start accepts the same conv channels given as a list or a
    tuple, but refuses to refit once conv_channels or conv_batch_norm has changed."""
    X = rng.normal(size=(20, 6, 2))
    reg = LSTMRegressor(conv_channels=[4], warm_start=True, **FAST).fit(X, X[:, 0, 0])
    reg.fit(X, X[:, 0, 0])  # a list and a tuple of the same channels are the same
    reg.set_params(conv_channels=(5,))
    with pytest.raises(ValueError, match="cannot change conv_channels"):
        reg.fit(X, X[:, 0, 0])
    reg.set_params(conv_channels=(4,), conv_batch_norm=True)
    with pytest.raises(ValueError, match="cannot change conv_batch_norm"):
        reg.fit(X, X[:, 0, 0])


def test_every_part_survives_pickle():
    """Check that a model with a frame encoder and attention pooling gives the same
    probabilities and attention weights after a pickle round trip."""
    V = rng.normal(size=(16, 3, 6, 6, 2))
    clf = LSTMClassifier(conv_channels=(4,), pooling="attention", **FAST)
    clf.fit(V, np.arange(16) % 3)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(V), clf.predict_proba(V))
    np.testing.assert_array_equal(back.attention_weights(V), clf.attention_weights(V))


# -- initialisation ------------------------------------------------------------------


def test_keras_init_sets_keras_weights():
    """Check that init="keras" sets Glorot/orthogonal weights, forget bias 1 and a
    zero padding row."""
    T, y = _tokens()
    clf = LSTMClassifier(
        embedding_dim=5, bidirectional=True, num_layers=2, init="keras", **FAST
    )
    clf.set_params(max_epochs=1, lr=1e-12).fit(T, y)  # weights stay where they began
    lstm, hidden = clf.module_.lstm, clf.hidden_size
    for suffix in ("_l0", "_l1", "_l0_reverse", "_l1_reverse"):
        w_hh = getattr(lstm, "weight_hh" + suffix).detach().cpu()
        np.testing.assert_allclose(w_hh.T @ w_hh, np.eye(hidden), atol=1e-4)
        b_ih = getattr(lstm, "bias_ih" + suffix).detach().cpu().numpy()
        expected = np.zeros(4 * hidden)
        expected[hidden : 2 * hidden] = 1.0
        np.testing.assert_allclose(b_ih, expected, atol=1e-6)
        b_hh = getattr(lstm, "bias_hh" + suffix).detach().cpu().numpy()
        assert np.abs(b_hh).max() < 1e-6
    embedding = clf.module_.front[0].embedding.weight.detach().cpu().numpy()
    assert np.abs(embedding[0]).max() < 1e-6 and np.abs(embedding).max() <= 0.05 + 1e-6
    again = LSTMClassifier(**clf.get_params()).fit(T, y)
    np.testing.assert_array_equal(again.predict_proba(T), clf.predict_proba(T))


def test_keras_init_fits_the_seed_sine_closer():
    """Check that, on the seed's sine task, Keras's initialisation reaches a lower
    loss than torch's with the same settings: the measured reason for the option."""
    from sklstm import make_windows

    X, y = make_windows(np.sin(np.arange(0, 100, 0.1)), 10)
    losses = {}
    for init in ("pytorch", "keras"):
        reg = LSTMRegressor(50, max_epochs=20, n_iter_no_change=20, init=init)
        losses[init] = reg.set_params(random_state=0).fit(X, y).loss_curve_[-1]
    assert losses["keras"] < losses["pytorch"]
