"""hw0 Q5: nn_epoch done in float32 like the MNIST data, writing back into the caller's weights."""
import numpy as np

CONVENTION = "nn_epoch"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = "relu"


def softmax_loss(Z, y):
    # log-sum-exp with the max pulled out (lecture 2)
    zmax = np.max(Z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - zmax), axis=1)) + zmax[:, 0]
    return np.mean(lse - Z[np.arange(Z.shape[0]), y])


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    num_examples = X.shape[0]
    num_classes = W2.shape[1]
    for i in range(0, num_examples, batch):
        # MNIST is float32 anyway, so do the whole thing in float32 (faster)
        X_b = X[i:i+batch].astype(np.float32)
        y_b = y[i:i+batch]
        n_b = X_b.shape[0]  # the last batch can be smaller than `batch`!
        W1f = W1.astype(np.float32)
        W2f = W2.astype(np.float32)

        Z1 = np.maximum(X_b @ W1f, 0)
        H = Z1 @ W2f
        H = H - np.max(H, axis=1, keepdims=True)
        expH = np.exp(H)
        S = expH / np.sum(expH, axis=1, keepdims=True)
        Iy = np.zeros((n_b, num_classes), dtype=np.float32)
        Iy[np.arange(n_b), y_b] = 1

        G2 = S - Iy
        G1 = (Z1 > 0) * (G2 @ W2f.T)
        grad1 = X_b.T @ G1 / n_b
        grad2 = Z1.T @ G2 / n_b

        # update in place so the caller sees it (no return value in the handout)
        W1 -= lr * grad1
        W2 -= lr * grad2
