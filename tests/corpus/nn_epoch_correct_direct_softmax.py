"""hw0 Q2 + Q5: softmax loss and a ReLU-net SGD epoch, softmax computed directly as the handout allows."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax_loss(Z, y):
    # docstring says we can just compute this directly, no need for the max trick
    return np.mean(np.log(np.sum(np.exp(Z), axis=1)) - Z[np.arange(len(y)), y])


def nn_epoch(X, y, W1, W2, lr = 0.1, batch=100):
    n_classes = W2.shape[1]
    start = 0
    while start < X.shape[0]:
        xb = X[start:start + batch]
        yb = y[start:start + batch]
        bsz = xb.shape[0] * 1.0   # float so the division below is not integer division

        hidden = np.maximum(np.dot(xb, W1), 0)
        Z = np.dot(hidden, W2)
        probs = np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True)
        onehot = np.eye(W2.shape[1])[yb]

        dZ = (probs - onehot) / bsz
        dhidden = np.dot(dZ, W2.T) * (hidden > 0)
        gW1 = np.dot(xb.T, dhidden)
        gW2 = np.dot(hidden.T, dZ)

        W1 -= lr * gW1
        W2 -= lr * gW2
        start += batch
