"""A Keras-style text table of a fitted network."""

from __future__ import annotations

from torch import nn

from ._layers import FCNBranch, FrameEncoder, TimeConv, TokenEmbedding


def summarize(module: nn.Module, n_timesteps: int) -> str:
    """Rows of layer, output shape and parameter count for an ``LSTMNetwork``."""
    lstm = module.lstm
    dirs = 2 if lstm.bidirectional else 1
    width = lstm.hidden_size * dirs
    cell = "GRU" if isinstance(lstm, nn.GRU) else "LSTM"
    kind = f"Bidirectional {cell}" if dirs == 2 else cell
    t = n_timesteps
    rows = []
    scaling = getattr(module, "scaling", None)
    if scaling is not None:
        how = "per channel"
        if scaling.any_per_sequence:
            how += " and per sequence" if scaling.both else ", then per sequence"
        out = scaling.out_features
        rows.append((f"scaling ({how})", f"(None, {t}, {out})", 0))
    for part in module.front:
        rows += _front_rows(part, t)
    k = getattr(module, "downsample", 1)
    steps = _averaged(rows, "average", k, t, lstm.input_size)
    for layer in range(lstm.num_layers):
        params = sum(
            p.numel()
            for name, p in lstm.named_parameters()
            if name.rsplit("_l", 1)[-1].split("_")[0] == str(layer)
        )
        rows.append(
            (
                f"{cell.lower()}_{layer} ({kind})",
                f"(None, {steps}, {width})",
                params,
            )
        )
    if module.attention is not None:
        rows.append(
            ("attention (additive)", f"(None, {width})", _count(module.attention))
        )
    else:
        rows.append((f"pool ({module.pooling})", f"(None, {width})", 0))
    fcn = getattr(module, "fcn", None)
    if fcn is not None:
        k = getattr(module, "fcn_downsample", 1)
        read = fcn.convs.convs[0].in_channels
        rows += _fcn_rows(fcn, _averaged(rows, "fcn_average", k, t, read))
        width += fcn.out_features
        rows.append(("concatenate (LSTM, FCN)", f"(None, {width})", 0))
    if module.dropout.p > 0:
        rows.append((f"dropout (p={module.dropout.p:g})", f"(None, {width})", 0))
    head = module.head
    rows.append(("dense (Linear)", f"(None, {head.out_features})", _count(head)))
    total = _count(module)
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    header = ("Layer (type)", "Output Shape", "Param #")
    w0 = max(len(header[0]), *(len(r[0]) for r in rows)) + 2
    w1 = max(len(header[1]), *(len(r[1]) for r in rows)) + 2
    line = "=" * (w0 + w1 + 12)
    out = [f"{header[0]:<{w0}}{header[1]:<{w1}}{header[2]:>10}", line]
    out += [f"{name:<{w0}}{shape:<{w1}}{n:>10,}" for name, shape, n in rows]
    out += [
        line,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    return "\n".join(out)


def _front_rows(part: nn.Module, t: int) -> list[tuple[str, str, int]]:
    """Table rows for one front-end part."""
    if isinstance(part, TokenEmbedding):
        dim = part.out_features
        return [("embedding (Embedding)", f"(None, {t}, {dim})", _count(part))]
    if isinstance(part, TimeConv):
        kind = "Conv1D + BatchNorm + ReLU" if part.norms else "Conv1D + ReLU"
        norms = part.norms or [None] * len(part.convs)
        return [
            (f"conv1d_{i} ({kind})", f"(None, {t}, {c.out_channels})", _count(c, n))
            for i, (c, n) in enumerate(zip(part.convs, norms, strict=True))
        ]
    assert isinstance(part, FrameEncoder)
    rows, (h, w, _) = [], part.frame_shape
    blocks = []  # [conv, batch norm or None, pooled?] per block
    for layer in part.cnn:
        if isinstance(layer, nn.Conv2d):
            blocks.append([layer, None, False])
        elif isinstance(layer, nn.BatchNorm2d):
            blocks[-1][1] = layer
        elif isinstance(layer, nn.MaxPool2d):
            blocks[-1][2] = True
    for i, (conv, norm, pooled) in enumerate(blocks):
        kind = "Conv2D + BatchNorm + ReLU" if norm else "Conv2D + ReLU"
        if pooled:
            h, w, kind = h // 2, w // 2, kind + " + MaxPool"
        shape = f"(None, {t}, {h}, {w}, {conv.out_channels})"
        rows.append(
            (f"frame_conv2d_{i} ({kind}, per frame)", shape, _count(conv, norm))
        )
    kind = "GlobalAvgPool" if part.pooling == "average" else "Flatten"
    rows.append((f"frame_pool ({kind})", f"(None, {t}, {part.out_features})", 0))
    return rows


def _averaged(rows: list, name: str, k: int, t: int, channels: int) -> int:
    """The steps read after averaging runs of ``k`` of ``t`` steps, with a
    row for the averaging when ``k`` is above 1."""
    if k == 1:
        return t
    steps = -(-t // k)
    rows.append((f"{name} ({k} steps)", f"(None, {steps}, {channels})", 0))
    return steps


def _fcn_rows(fcn: FCNBranch, t: int) -> list[tuple[str, str, int]]:
    """Table rows for the convolutional branch of LSTM-FCN."""
    convs = fcn.convs
    rows = []
    for i, (conv, norm) in enumerate(zip(convs.convs, convs.norms, strict=True)):
        k = conv.kernel_size[0]
        shape = f"(None, {t}, {conv.out_channels})"
        rows.append(
            (
                f"fcn_conv1d_{i} (Conv1D k={k} + BatchNorm + ReLU)",
                shape,
                _count(conv, norm),
            )
        )
        if i < len(convs.excite):
            rows.append(
                (f"fcn_se_{i} (squeeze-excite)", shape, _count(convs.excite[i]))
            )
    rows.append(("fcn_pool (GlobalAvgPool)", f"(None, {fcn.out_features})", 0))
    return rows


def _count(*modules: nn.Module | None) -> int:
    return sum(p.numel() for m in modules if m is not None for p in m.parameters())
