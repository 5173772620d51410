"""The PyTorch side of bench_vae_torch.py: the VAE of pytorch/examples (vae/main.py) on
Fashion-MNIST, as that example trains and tests it — 784-400-20 with ReLU, Adam (PyTorch's
defaults: lr 1e-3, eps 1e-8), batch 128 shuffled each epoch (the last partial batch kept), the loss
binary cross-entropy summed over pixels and over the batch plus the KL term, the test loss the same
single-sample estimate summed over the test set and divided by its size. Only the data loading is
ours: the example reads MNIST through torchvision; this reads the same IDX files as VAE.py with
NumPy and scales them as torchvision's ToTensor does (x / 255).

It runs under a Python that has PyTorch (a scratch environment bench_vae_torch.py makes), never
the package's: prints one JSON line per epoch, {"epoch", "seconds", "train_loss", "test_loss"}.
"""

import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise SystemExit(f"torch_vae_reference: no {stem}[.gz] in {folder}")


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", required=True, help="folder of Fashion-MNIST's four IDX files")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1, help="the example's default seed is 1")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: its default)")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    train_x = torch.from_numpy(
        read_idx(find(args.data_dir, "train-images-idx3-ubyte")).astype(np.float32) / 255
    )
    test_x = torch.from_numpy(
        read_idx(find(args.data_dir, "t10k-images-idx3-ubyte")).astype(np.float32) / 255
    )
    train = torch.utils.data.DataLoader(train_x, batch_size=args.batch_size, shuffle=True)
    test = torch.utils.data.DataLoader(test_x, batch_size=args.batch_size, shuffle=False)
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        model.train()
        train_loss = 0.0
        for data in train:
            optimizer.zero_grad()
            recon, mu, logvar = model(data)
            loss = loss_function(recon, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        seconds = time.perf_counter() - started
        model.eval()
        test_loss = 0.0
        with torch.no_grad():
            for data in test:
                recon, mu, logvar = model(data)
                test_loss += loss_function(recon, data, mu, logvar).item()
        print(
            json.dumps(
                {
                    "epoch": epoch,
                    "seconds": seconds,
                    "train_loss": train_loss / len(train.dataset),
                    "test_loss": test_loss / len(test.dataset),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
