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
