"""L-layer MLP gradients with einsum and a plain for loop; softmax is exp / sum exp with no shift."""
import numpy as np

CONVENTION = "mlp_grads"
EXPECTED = "pass"
DIAGNOSIS = None
ACTIVATION = None


def mlp_grads(X, y, Ws, activation="relu"):
    m = X.shape[0] * 1.0
    num_layers = len(Ws)

    # forward pass, keep everything for backprop
    zs = [X]      # input to each layer
    pres = []     # z_i W_i
    for i in range(num_layers):
        a = np.einsum('bi,ij->bj', zs[i], Ws[i])
        pres.append(a)
        if i == num_layers - 1:
            zs.append(a)
        elif activation == 'relu':
            zs.append(np.maximum(a, 0.0))
        elif activation == 'sigmoid':
            zs.append(1.0 / (1.0 + np.exp(-a)))
        elif activation == 'tanh':
            zs.append(np.tanh(a))
        else:
            raise ValueError('activation must be relu, sigmoid or tanh')

    # softmax (no max subtraction, fine for our logits)
    e = np.exp(zs[-1])
    S = e / np.sum(e, axis=1, keepdims=True)
    Iy = np.zeros(S.shape)
    for r in range(S.shape[0]):
        Iy[r, y[r]] = 1.0
    G = (S - Iy) / m

    grads = [None] * num_layers
    for i in range(num_layers - 1, -1, -1):
        if i != num_layers - 1:
            a = pres[i]
            if activation == 'relu':
                G = G * (a > 0)
            elif activation == 'sigmoid':
                s = 1.0 / (1.0 + np.exp(-a))
                G = G * s * (1.0 - s)
            else:
                G = G * (1.0 - np.tanh(a) ** 2)
        grads[i] = np.einsum('bi,bj->ij', zs[i], G)
        G = np.einsum('bj,ij->bi', G, Ws[i])
    return grads
