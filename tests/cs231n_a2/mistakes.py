"""Realistic mistakes in CS231n assignment 2's layers, two per function, as students make them.

Each entry: the function it breaks, the source that replaces the correct one, the catalogued mistake
gradcheck must name (None where no catalogued mistake applies), and the other functions it breaks
through them (a layer built on a broken one, the composed network of affine, ReLU and softmax_loss).
"""

from __future__ import annotations

from typing import NamedTuple


class Mistake(NamedTuple):
    function: str
    source: str
    bug: str | None
    also: tuple[str, ...] = ()


FIRST = {
    "affine without its bias": Mistake("affine_forward", '''
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w)
    return out, (x, w, b)
''', None, ("relu_network",)),
    "affine db over the units": Mistake("affine_backward", '''
def affine_backward(dout, cache):
    x, w, b = cache
    return dout.dot(w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T.dot(dout), np.sum(dout, axis=1)
''', "bias_wrong_axis", ("relu_network",)),
    "leaky by mistake": Mistake("relu_forward", '''
def relu_forward(x):
    return np.maximum(0.01 * x, x), x
''', None, ("relu_network",)),
    "relu backward writes into dout": Mistake("relu_backward", '''
def relu_backward(dout, cache):
    dx = dout
    dx[cache <= 0] = 0
    return dx
''', "inputs_mutated"),
    "running average weighted the wrong way": Mistake("batchnorm_forward", '''
_correct_batchnorm_forward = batchnorm_forward


def batchnorm_forward(x, gamma, beta, bn_param):
    momentum = bn_param.get("momentum", 0.9)
    old_mean, old_var = bn_param["running_mean"].copy(), bn_param["running_var"].copy()
    out, cache = _correct_batchnorm_forward(x, gamma, beta, bn_param)
    if bn_param["mode"] == "train":
        bn_param["running_mean"] = (1 - momentum) * old_mean + momentum * x.mean(axis=0)
        bn_param["running_var"] = (1 - momentum) * old_var + momentum * x.var(axis=0)
    return out, cache
''', "running_average_swapped", ("spatial_batchnorm_forward",)),
    "batchnorm backward without the mean terms": Mistake("batchnorm_backward", '''
def batchnorm_backward(dout, cache):
    x_hat, gamma, std = cache
    return dout * gamma / std, np.sum(dout * x_hat, axis=0), dout.sum(axis=0)
''', "normalization_mean_terms_missing"),
    "batchnorm alt forgets x_hat in the last term": Mistake("batchnorm_backward_alt", '''
def batchnorm_backward_alt(dout, cache):
    x_hat, gamma, std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    return gamma / (N * std) * (N * dout - dbeta - dgamma), dgamma, dbeta
''', None, ("spatial_batchnorm_backward",)),
    "layernorm without beta": Mistake("layernorm_forward", '''
def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - mu) / std
    return gamma * x_hat, (x_hat, gamma, std)
''', None),
    "layernorm backward summed over the batch": Mistake("layernorm_backward", '''
def layernorm_backward(dout, cache):
    x_hat, gamma, std = cache
    N = dout.shape[0]
    dx_hat = dout * gamma
    dx = (N * dx_hat - dx_hat.sum(axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0)) / (N * std)
    return dx, np.sum(dout * x_hat, axis=0), dout.sum(axis=0)
''', None),
    "dropout without the 1/p": Mistake("dropout_forward", '''
def dropout_forward(x, dropout_param):
    """
    - p: Dropout parameter. We keep each neuron output with probability p.
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    out = x
    if mode == "train":
        mask = np.random.rand(*x.shape) < p
        out = x * mask
    return out, (dropout_param, mask)
''', "dropout_not_scaled"),
    "dropout backward ignores the mask": Mistake("dropout_backward", '''
def dropout_backward(dout, cache):
    return dout
''', None),
    "Python 2 division in the output size": Mistake("conv_forward_naive", '''
_correct_conv_forward_naive = conv_forward_naive


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    H_out = 1 + (x.shape[2] + 2 * pad - w.shape[2]) / stride
    np.zeros((x.shape[0], w.shape[0], H_out, H_out))
    return _correct_conv_forward_naive(x, w, b, conv_param)
''', None),
    "conv dx sliced [pad:-pad]": Mistake("conv_backward_naive", '''
_correct_conv_backward_naive = conv_backward_naive


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    padded = (np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))), w, b, dict(conv_param, pad=0))
    dx_pad, dw, db = _correct_conv_backward_naive(dout, padded)
    return dx_pad[:, :, pad:-pad, pad:-pad], dw, db
''', "conv_pad_zero_slice"),
    "average pooling": Mistake("max_pool_forward_naive", '''
def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw].mean(axis=(2, 3))
    return out, (x, pool_param)
''', None),
    "max-pool gradient to every element": Mistake("max_pool_backward_naive", '''
def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] += dout[:, :, i, j][:, :, None, None]
    return dx
''', "max_pool_gradient_to_every_element"),
    "spatial batchnorm on a copy of bn_param": Mistake("spatial_batchnorm_forward", '''
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out, cache = batchnorm_forward(flat, gamma, beta, dict(bn_param))
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache
''', None),
    "spatial batchnorm backward reshaped without transposing": Mistake("spatial_batchnorm_backward", '''
def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dx, dgamma, dbeta = batchnorm_backward_alt(dout.reshape(-1, C), cache)
    return dx.reshape(N, C, H, W), dgamma, dbeta
''', None),
    "groupnorm without beta": Mistake("spatial_groupnorm_forward", '''
_correct_spatial_groupnorm_forward = spatial_groupnorm_forward


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """
    - gamma: Scale parameter, of shape (1, C, 1, 1)
    """
    out, cache = _correct_spatial_groupnorm_forward(x, gamma, beta, G, gn_param)
    return out - beta, cache
''', None),
    "groupnorm backward without the mean terms": Mistake("spatial_groupnorm_backward", '''
def spatial_groupnorm_backward(dout, cache):
    x_hat, gamma, std, G = cache
    N, C, H, W = dout.shape
    dx = ((dout * gamma).reshape(N, G, -1) / std).reshape(N, C, H, W)
    return dx, np.sum(dout * x_hat, axis=(0, 2, 3), keepdims=True), dout.sum(axis=(0, 2, 3), keepdims=True)
''', "normalization_mean_terms_missing"),
    "svm dx not averaged": Mistake("svm_loss", '''
def svm_loss(x, y):
    N = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(N), y][:, None] + 1.0)
    margins[np.arange(N), y] = 0
    dx = (margins > 0).astype(float)
    dx[np.arange(N), y] -= dx.sum(axis=1)
    return margins.sum() / N, dx
''', "sum_instead_of_mean"),
    "softmax dx not averaged": Mistake("softmax_loss", '''
def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    N = x.shape[0]
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return -np.log(probs[np.arange(N), y]).mean(), dx
''', "sum_instead_of_mean", ("relu_network",)),
}

SECOND = {
    "affine reshapes x in place": Mistake("affine_forward", '''
def affine_forward(x, w, b):
    x.shape = (x.shape[0], -1)
    return x.dot(w) + b, (x, w, b)
''', "inputs_mutated", ("affine_backward",)),
    "affine dx left flat": Mistake("affine_backward", '''
def affine_backward(dout, cache):
    x, w, b = cache
    return dout.dot(w.T), x.reshape(x.shape[0], -1).T.dot(dout), dout.sum(axis=0)
''', None),
    "relu forward writes into x": Mistake("relu_forward", '''
def relu_forward(x):
    out = x
    out[out < 0] = 0
    return out, x
''', "inputs_mutated"),
    "relu backward forgets dout": Mistake("relu_backward", '''
def relu_backward(dout, cache):
    return (cache > 0).astype(float)
''', None, ("relu_network",)),
    "test mode with √var + ε": Mistake("batchnorm_forward", '''
_correct_batchnorm_forward = batchnorm_forward


def batchnorm_forward(x, gamma, beta, bn_param):
    if bn_param["mode"] == "test":
        eps = bn_param.get("eps", 1e-5)
        return gamma * (x - bn_param["running_mean"]) / (np.sqrt(bn_param["running_var"]) + eps) + beta, None
    return _correct_batchnorm_forward(x, gamma, beta, bn_param)
''', "batchnorm_eps_outside_sqrt", ("spatial_batchnorm_forward",)),
    "batchnorm dgamma without x_hat": Mistake("batchnorm_backward", '''
_correct_batchnorm_backward = batchnorm_backward


def batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = _correct_batchnorm_backward(dout, cache)
    return dx, dout.sum(axis=0), dbeta
''', None),
    "batchnorm alt without the 1/N": Mistake("batchnorm_backward_alt", '''
def batchnorm_backward_alt(dout, cache):
    x_hat, gamma, std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    return gamma / std * (N * dout - dbeta - x_hat * dgamma), dgamma, dbeta
''', None, ("spatial_batchnorm_backward",)),
    "layernorm mean without keepdims": Mistake("layernorm_forward", '''
def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1)
    std = np.sqrt(x.var(axis=1) + eps)
    x_hat = (x - mu) / std
    return gamma * x_hat + beta, (x_hat, gamma, std)
''', None),
    "layernorm backward without the mean terms": Mistake("layernorm_backward", '''
def layernorm_backward(dout, cache):
    x_hat, gamma, std = cache
    return dout * gamma / std, np.sum(dout * x_hat, axis=0), dout.sum(axis=0)
''', "normalization_mean_terms_missing"),
    "dropout keeps with probability 1 - p": Mistake("dropout_forward", '''
def dropout_forward(x, dropout_param):
    """
    - p: Dropout parameter. We keep each neuron output with probability p.
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    out = x
    if mode == "train":
        mask = (np.random.rand(*x.shape) >= p) / p
        out = x * mask
    return out, (dropout_param, mask)
''', "dropout_p_inverted"),
    "dropout backward without the 1/p": Mistake("dropout_backward", '''
def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout * (mask > 0)
''', "dropout_not_scaled"),
    "conv without its bias": Mistake("conv_forward_naive", '''
_correct_conv_forward_naive = conv_forward_naive


def conv_forward_naive(x, w, b, conv_param):
    out, cache = _correct_conv_forward_naive(x, w, np.zeros_like(b), conv_param)
    return out, (x, w, b, conv_param)
''', None),
    "conv dx keeps the padding": Mistake("conv_backward_naive", '''
_correct_conv_backward_naive = conv_backward_naive


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    padded = (np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))), w, b, dict(conv_param, pad=0))
    return _correct_conv_backward_naive(dout, padded)
''', "conv_padding_not_removed"),
    "Python 2 division in the pooled size": Mistake("max_pool_forward_naive", '''
_correct_max_pool_forward_naive = max_pool_forward_naive


def max_pool_forward_naive(x, pool_param):
    H_out = 1 + (x.shape[2] - pool_param["pool_height"]) / pool_param["stride"]
    for i in range(H_out):
        pass
    return _correct_max_pool_forward_naive(x, pool_param)
''', None),
    "max-pool gradient assigned where windows overlap": Mistake("max_pool_backward_naive", '''
def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + r, j * stride + s] = dout[n, c, i, j]
    return dx
''', "max_pool_overlap_overwritten"),
    "spatial batchnorm out not transposed back": Mistake("spatial_batchnorm_forward", '''
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    out, cache = batchnorm_forward(x.transpose(0, 2, 3, 1).reshape(-1, C), gamma, beta, bn_param)
    return out.reshape(N, C, H, W), cache
''', None),
    "spatial batchnorm dx not transposed back": Mistake("spatial_batchnorm_backward", '''
def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dx, dgamma, dbeta = batchnorm_backward_alt(dout.transpose(0, 2, 3, 1).reshape(-1, C), cache)
    return dx.reshape(N, C, H, W), dgamma, dbeta
''', None),
    "groupnorm mean without keepdims": Mistake("spatial_groupnorm_forward", '''
def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """
    - gamma: Scale parameter, of shape (1, C, 1, 1)
    """
    N, C, H, W = x.shape
    grouped = x.reshape(N, G, -1)
    x_hat = ((grouped - grouped.mean(axis=2)) / np.sqrt(grouped.var(axis=2) + 1e-5)).reshape(N, C, H, W)
    return gamma * x_hat + beta, (x_hat, gamma, None, G)
''', None),
    "groupnorm dgamma without keepdims": Mistake("spatial_groupnorm_backward", '''
_correct_spatial_groupnorm_backward = spatial_groupnorm_backward


def spatial_groupnorm_backward(dout, cache):
    dx, dgamma, dbeta = _correct_spatial_groupnorm_backward(dout, cache)
    return dx, dgamma.reshape(-1), dbeta
''', None),
    "svm counts the correct class": Mistake("svm_loss", '''
def svm_loss(x, y):
    N = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(N), y][:, None] + 1.0)
    dx = (margins > 0).astype(float)
    dx[np.arange(N), y] -= dx.sum(axis=1)
    return margins.sum() / N, dx / N
''', None),
    "softmax loss summed": Mistake("softmax_loss", '''
_correct_softmax_loss = softmax_loss


def softmax_loss(x, y):
    loss, dx = _correct_softmax_loss(x, y)
    return loss * x.shape[0], dx
''', None),
}

# rnn_layers.py (assignment 3)
RNN_FIRST = {
    "rnn step without its bias": Mistake("rnn_step_forward", '''
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh))
    return next_h, (x, prev_h, Wx, Wh, next_h)
''', None, ("rnn_forward", "rnn_step_backward", "rnn_backward")),  # the backwards read the wrong next_h from the cache
    "tanh' written as 1 - h": Mistake("rnn_step_backward", '''
def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h)
    return da.dot(Wx.T), da.dot(Wh.T), x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)
''', None, ("rnn_backward",)),
    "rnn stores h one step late": Mistake("rnn_forward", '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev_h, caches = h0, []
    for t in range(T):
        h[:, t, :] = prev_h
        prev_h, cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        caches.append(cache)
    return h, caches
''', None),
    "rnn backward without backprop through time": Mistake("rnn_backward", '''
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    for t in reversed(range(T)):
        dx[:, t, :], dprev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :], cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev, dWx, dWh, db
''', "rnn_no_backprop_through_time"),
    "embedding out transposed": Mistake("word_embedding_forward", '''
def word_embedding_forward(x, W):
    return W[x.T], (x, W)
''', None),
    "embedding gradient assigned": Mistake("word_embedding_backward", '''
def word_embedding_backward(dout, cache):
    x, W = cache
    dW = np.zeros_like(W)
    dW[x] = dout
    return dW
''', "embedding_overwritten"),
    "temporal affine without its bias": Mistake("temporal_affine_forward", '''
def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    return x.reshape(N * T, D).dot(w).reshape(N, T, -1), (x, w, b, None)
''', None),
    "temporal affine db kept per step": Mistake("temporal_affine_backward", '''
def temporal_affine_backward(dout, cache):
    x, w, b, out = cache
    N, T, D = x.shape
    M = b.shape[0]
    dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
    dw = x.reshape(N * T, D).T.dot(dout.reshape(N * T, M))
    return dx, dw, dout.sum(axis=0)
''', None),
    "temporal loss ignores the mask": Mistake("temporal_softmax_loss", '''
def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    x_flat, y_flat = x.reshape(N * T, V), y.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(N * T), y_flat])) / N
    dx_flat = probs.copy()
    dx_flat[np.arange(N * T), y_flat] -= 1
    return loss, (dx_flat / N).reshape(N, T, V)
''', "mask_ignored"),
    "lstm next_h without tanh": Mistake("lstm_step_forward", '''
_correct_lstm_step_forward = lstm_step_forward


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    next_h, next_c, cache = _correct_lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    o = cache[7]
    return o * next_c, next_c, cache
''', None, ("lstm_forward", "lstm_backward")),  # each step's cache holds the wrong prev_h
    "lstm cell gradient without the path through next_h": Mistake("lstm_step_backward", '''
def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g ** 2)])
    return da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)
''', "lstm_cell_path_missing", ("lstm_backward",)),
    "lstm stores h one step late": Mistake("lstm_forward", '''
def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev_h, prev_c, caches = h0, np.zeros_like(h0), []
    for t in range(T):
        h[:, t, :] = prev_h
        prev_h, prev_c, cache = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        caches.append(cache)
    return h, caches
''', None),
    "lstm backward drops the cell gradient between steps": Mistake("lstm_backward", '''
def lstm_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, _, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t, :] + dprev_h, np.zeros((N, H)), cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db
''', None),
}

RNN_SECOND = {
    "rnn step with ReLU": Mistake("rnn_step_forward", '''
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.maximum(0, x.dot(Wx) + prev_h.dot(Wh) + b)
    return next_h, (x, prev_h, Wx, Wh, np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b))
''', None, ("rnn_forward",)),
    "dprev_h through Wh instead of its transpose": Mistake("rnn_step_backward", '''
def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da.dot(Wx.T), da.dot(Wh), x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)
''', None, ("rnn_backward",)),
    "rnn starts from zeros instead of h0": Mistake("rnn_forward", '''
_correct_rnn_forward = rnn_forward


def rnn_forward(x, h0, Wx, Wh, b):
    return _correct_rnn_forward(x, np.zeros_like(h0), Wx, Wh, b)
''', None, ("rnn_backward",)),
    "rnn dWx from the first step only": Mistake("rnn_backward", '''
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWh, db = np.zeros((H, H)), np.zeros(H)
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dprev, dWx, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev, cache[t])
        dWh += dWh_t
        db += db_t
    return dx, dprev, dWx, dWh, db
''', None),
    "embedding indexes the columns": Mistake("word_embedding_forward", '''
def word_embedding_forward(x, W):
    return W[:, x], (x, W)
''', None),
    "embedding gradient with fancy +=": Mistake("word_embedding_backward", '''
def word_embedding_backward(dout, cache):
    x, W = cache
    dW = np.zeros_like(W)
    dW[x] += dout
    return dW
''', "embedding_overwritten"),
    "temporal affine reshaped time-major": Mistake("temporal_affine_forward", '''
def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    out = x.reshape(N * T, D).dot(w).reshape(T, N, -1).transpose(1, 0, 2) + b
    return out, (x, w, b, out)
''', None),
    "temporal affine dx left flat": Mistake("temporal_affine_backward", '''
_correct_temporal_affine_backward = temporal_affine_backward


def temporal_affine_backward(dout, cache):
    dx, dw, db = _correct_temporal_affine_backward(dout, cache)
    return dx.reshape(-1, dx.shape[-1]), dw, db
''', None),
    "temporal dx not averaged": Mistake("temporal_softmax_loss", '''
_correct_temporal_softmax_loss = temporal_softmax_loss


def temporal_softmax_loss(x, y, mask, verbose=False):
    loss, dx = _correct_temporal_softmax_loss(x, y, mask)
    return loss, dx * x.shape[0]
''', "sum_instead_of_mean"),
    "lstm cell forgets the input gate": Mistake("lstm_step_forward", '''
_correct_lstm_step_forward = lstm_step_forward


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    _, _, cache = _correct_lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    i, f, o, g = cache[5:9]
    next_c = f * prev_c + g
    return o * np.tanh(next_c), next_c, cache
''', None, ("lstm_forward",)),
    "lstm dprev_c without the forget gate": Mistake("lstm_step_backward", '''
_correct_lstm_step_backward = lstm_step_backward


def lstm_step_backward(dnext_h, dnext_c, cache):
    dx, dprev_h, dprev_c, dWx, dWh, db = _correct_lstm_step_backward(dnext_h, dnext_c, cache)
    return dx, dprev_h, dprev_c / cache[6], dWx, dWh, db
''', None, ("lstm_backward",)),
    "lstm starts its cell from h0": Mistake("lstm_forward", '''
def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev_h, prev_c, caches = h0, h0.copy(), []
    for t in range(T):
        prev_h, prev_c, cache = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        h[:, t, :] = prev_h
        caches.append(cache)
    return h, caches
''', None, ("lstm_backward",)),
    "lstm backward forgets dh of each step": Mistake("lstm_backward", '''
def lstm_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
    dprev_h, dprev_c = dh[:, -1, :], np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dprev_h, dprev_c, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db
''', None),
}


# layer_utils.py: the sandwiches, on a correct layers.py
SANDWICH_FIRST = {
    "affine_relu returns the pre-activation": Mistake("affine_relu_forward", '''
def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return a, (fc_cache, relu_cache)
''', None),
    "affine_relu backward skips the ReLU": Mistake("affine_relu_backward", '''
def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    return affine_backward(dout, fc_cache)
''', None),
    "affine_bn_relu normalizes after the ReLU": Mistake("affine_bn_relu_forward", '''
def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
    a, fc_cache = affine_forward(x, w, b)
    r, relu_cache = relu_forward(a)
    out, bn_cache = batchnorm_forward(r, gamma, beta, bn_param)
    return out, (fc_cache, bn_cache, relu_cache)
''', None, ("affine_bn_relu_backward",)),  # its cache takes the backward down with it
    "affine_bn_relu backward drops dgamma and dbeta": Mistake("affine_bn_relu_backward", '''
def affine_bn_relu_backward(dout, cache):
    fc_cache, bn_cache, relu_cache = cache
    dn, dgamma, dbeta = batchnorm_backward_alt(relu_backward(dout, relu_cache), bn_cache)
    dx, dw, db = affine_backward(dn, fc_cache)
    return dx, dw, db, np.zeros_like(dgamma), np.zeros_like(dbeta)
''', None),
    "conv_relu without the ReLU": Mistake("conv_relu_forward", '''
def conv_relu_forward(x, w, b, conv_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return a, (conv_cache, relu_cache)
''', None),
    "conv_relu backward skips the ReLU": Mistake("conv_relu_backward", '''
def conv_relu_backward(dout, cache):
    conv_cache, relu_cache = cache
    return conv_backward_naive(dout, conv_cache)
''', None),
    "conv_relu_pool subsamples instead of taking the max": Mistake("conv_relu_pool_forward", '''
def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_naive(s, pool_param)
    return s[:, :, ::2, ::2], (conv_cache, relu_cache, pool_cache)
''', None),
    "conv_relu_pool backward averages over each window": Mistake("conv_relu_pool_backward", '''
def conv_relu_pool_backward(dout, cache):
    conv_cache, relu_cache, pool_cache = cache
    ds = np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3) / 4.0
    return conv_backward_naive(relu_backward(ds, relu_cache), conv_cache)
''', None),
}

SANDWICH_SECOND = {
    "affine_relu applies the ReLU first": Mistake("affine_relu_forward", '''
def affine_relu_forward(x, w, b):
    r, relu_cache = relu_forward(x)
    out, fc_cache = affine_forward(r, w, b)
    return out, (fc_cache, relu_cache)
''', None, ("affine_relu_backward",)),
    "affine_relu backward sums dw for db": Mistake("affine_relu_backward", '''
def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    dx, dw, db = affine_backward(relu_backward(dout, relu_cache), fc_cache)
    return dx, dw, dw.sum(axis=0)
''', None),
    "affine_bn_relu uses test mode": Mistake("affine_bn_relu_forward", '''
def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
    a, fc_cache = affine_forward(x, w, b)
    test = dict(bn_param, mode="test")
    n, _ = batchnorm_forward(a, gamma, beta, test)
    _, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(n)
    return out, (fc_cache, bn_cache, relu_cache)
''', None, ("affine_bn_relu_backward",)),  # the ReLU's cache holds the test-mode values
    "affine_bn_relu backward without the mean terms": Mistake("affine_bn_relu_backward", '''
def affine_bn_relu_backward(dout, cache):
    fc_cache, bn_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    x_hat, gamma, std = bn_cache
    dgamma, dbeta = np.sum(da * x_hat, axis=0), np.sum(da, axis=0)
    dn = da * gamma / std
    dx, dw, db = affine_backward(dn, fc_cache)
    return dx, dw, db, dgamma, dbeta
''', "normalization_mean_terms_missing"),
    "conv_relu leaks below zero": Mistake("conv_relu_forward", '''
def conv_relu_forward(x, w, b, conv_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return np.where(a > 0, a, 0.01 * a), (conv_cache, relu_cache)
''', None),
    "conv_relu backward sums dw for db": Mistake("conv_relu_backward", '''
def conv_relu_backward(dout, cache):
    conv_cache, relu_cache = cache
    dx, dw, db = conv_backward_naive(relu_backward(dout, relu_cache), conv_cache)
    return dx, dw, dw.sum(axis=(1, 2, 3))
''', None),
    "conv_relu_pool pools with stride 1": Mistake("conv_relu_pool_forward", '''
def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_naive(s, dict(pool_param, stride=1))
    return out, (conv_cache, relu_cache, pool_cache)
''', None, ("conv_relu_pool_backward",)),
    "conv_relu_pool backward routes to every window entry": Mistake("conv_relu_pool_backward", '''
def conv_relu_pool_backward(dout, cache):
    conv_cache, relu_cache, pool_cache = cache
    ds = np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3)
    return conv_backward_naive(relu_backward(ds, relu_cache), conv_cache)
''', None),
}
