"""An autoencoder built from component objects: the loss calls self.encoder.forward(x)."""
import numpy as np


class Dense:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        return np.tanh(self.W @ x + self.b)


class Encoder:
    def __init__(self, rng):
        self.hidden = Dense(0.5 * rng.normal(size=(4, 3)), rng.normal(size=4))
        self.code = Dense(0.5 * rng.normal(size=(2, 4)), rng.normal(size=2))

    def forward(self, x):
        return self.code.forward(self.hidden.forward(x))


class Decoder:
    def __init__(self, rng):
        self.out = Dense(0.5 * rng.normal(size=(3, 2)), rng.normal(size=3))

    def forward(self, z):
        return self.out.forward(z)


class AutoEncoder:
    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.encoder = Encoder(rng)
        self.decoder = Decoder(rng)

    def loss(self, x, weight):
        z = self.encoder.forward(x)
        return np.sum((self.decoder.forward(z) - x) ** 2) + weight * np.sum(z ** 2)


model = AutoEncoder(41)
loss = model.loss


def args():
    return np.array([0.3, -0.8, 0.5]), 0.1


WRT = (0, 1)
