"""The classic MNIST convnet, as countless tutorials wrote it: with both dropout bugs.

Run ``dropout-lint examples/`` to see them, ``dropout-lint --diff examples/`` for the fix.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)  # fine: (N, 64, 12, 12) is 4-D
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)  # bug: 2-D input, so this is not channel dropout
        x = F.dropout(x, 0.2)  # bug: still active after model.eval()
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def evaluate(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Two evaluations of the same images should agree; with these bugs they do not."""
    model.eval()
    with torch.no_grad():
        return model(images).argmax(dim=1)


if __name__ == "__main__":
    torch.manual_seed(0)
    net = Net()
    batch = torch.randn(64, 1, 28, 28)
    agree = (evaluate(net, batch) == evaluate(net, batch)).float().mean().item()
    print(f"eval-mode predictions that agree between two runs: {agree:.0%}")
