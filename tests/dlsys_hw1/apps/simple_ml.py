"""hw1's simple_ml.py: the hw0 network again, written with the student's own needle Tensors."""
import sys

import numpy as np

sys.path.append("python/")
import needle as ndl  # noqa: E402


def softmax_loss(Z, y_one_hot):
    """Return softmax loss.

    Args:
        Z (ndl.Tensor[np.float32]): 2D Tensor of shape (batch_size, num_classes), containing the logit predictions
            for each class.
        y (ndl.Tensor[np.int8]): 2D Tensor of shape (batch_size, num_classes) containing a 1 at the index of the true
            label of each example and zeros elsewhere.

    Returns:
        Average softmax loss over the sample. (ndl.Tensor[np.float32])
    """
    ### BEGIN YOUR SOLUTION
    batch = Z.shape[0]
    return (ndl.log(ndl.exp(Z).sum(axes=(1,))).sum() - (Z * y_one_hot).sum()) / batch
    ### END YOUR SOLUTION


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    """Run a single epoch of SGD for a two-layer neural network defined by the weights W1 and W2 (with no bias terms):
        logits = ReLU(X * W1) * W2

    Args:
        X (np.ndarray[np.float32]): 2D input array of size (num_examples x input_dim).
        y (np.ndarray[np.uint8]): 1D class label array of size (num_examples,)
        W1 (ndl.Tensor[np.float32]): 2D array of first layer weights, of shape (input_dim, hidden_dim)
        W2 (ndl.Tensor[np.float32]): 2D array of second layer weights, of shape (hidden_dim, num_classes)
        lr (float): step size (learning rate) for SGD
        batch (int): size of SGD mini-batch

    Returns:
        Tuple: (W1, W2)
            W1: ndl.Tensor[np.float32]
            W2: ndl.Tensor[np.float32]
    """
    ### BEGIN YOUR SOLUTION
    num_classes = W2.shape[1]
    for start in range(0, X.shape[0], batch):
        Xb = ndl.Tensor(X[start:start + batch], dtype=W1.dtype)
        yb = y[start:start + batch]
        Y = np.zeros((yb.shape[0], num_classes), dtype=W1.dtype)
        Y[np.arange(yb.shape[0]), yb] = 1
        loss = softmax_loss(ndl.relu(Xb @ W1) @ W2, ndl.Tensor(Y, dtype=W1.dtype))
        loss.backward()
        W1 = ndl.Tensor(W1.numpy() - lr * W1.grad.numpy(), dtype=W1.dtype)
        W2 = ndl.Tensor(W2.numpy() - lr * W2.grad.numpy(), dtype=W2.dtype)
    return W1, W2
    ### END YOUR SOLUTION
