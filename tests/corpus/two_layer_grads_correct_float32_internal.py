"""Two-layer ReLU net gradients: computed in float32 (as on the GPU), handed back as float64."""
import numpy as np

CONVENTION = "two_layer_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "relu"


def two_layer_grads(X, y, W1, W2):
    x32 = np.asarray(X, dtype=np.float32)
    w1 = np.asarray(W1, dtype=np.float32)
    w2 = np.asarray(W2, dtype=np.float32)
    num = x32.shape[0]
    pre = x32.dot(w1)
    hid = pre * (pre > 0)              # relu
    out = hid.dot(w2)
    out = out - out.max(axis=1)[:, np.newaxis]
    sm = np.exp(out)
    sm = sm / sm.sum(axis=1)[:, np.newaxis]
    sm[range(num), y] -= 1.0           # softmax minus one-hot
    sm /= num
    dw2 = hid.T.dot(sm)
    dpre = sm.dot(w2.T) * (pre > 0)
    dw1 = x32.T.dot(dpre)
    # tests compare against float64, so convert back
    return dw1.astype(np.float64), dw2.astype(np.float64)
