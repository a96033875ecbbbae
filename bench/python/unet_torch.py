#!/usr/bin/env python3
"""The PyTorch peer of bench/UNetBench: the same toy U-Net as io.scorestream.model.nn.UNetGraph (UNetConfig.mnist:
1x28x28, base 16, 4 groups, no attention, 10 classes plus the null label), timed forward at batch 1, 16, 64 and 256,
eager and TorchScript (torch.jit.trace), on CPU with the given threads. Weights are random: speed does not depend on
training. Debian's python3-torch (1.13) is enough:

    apt-get install python3-torch && OMP_NUM_THREADS=2 python3 bench/python/unet_torch.py --seconds 3
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResBlock(nn.Module):
    """GN-SiLU-conv, + dense(SiLU(emb)), GN-SiLU-conv, + skip (1x1 conv when the channels change)."""

    def __init__(self, cin, cout, emb, groups):
        super().__init__()
        self.gn1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.dense = nn.Linear(emb, cout)
        self.gn2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, e):
        h = self.conv1(F.silu(self.gn1(x)))
        h = h + self.dense(F.silu(e))[:, :, None, None]
        h = self.conv2(F.silu(self.gn2(h)))
        return h + (x if self.skip is None else self.skip(x))


class UNet(nn.Module):
    def __init__(self, channels=1, base=16, groups=4, classes=10):
        super().__init__()
        emb = 4 * base
        self.register_buffer("freq", torch.randn(1, base // 2) * 16.0 * 2 * math.pi)
        self.d1 = nn.Linear(base, emb)
        self.d2 = nn.Linear(emb, emb)
        self.cemb = nn.Linear(classes + 1, emb, bias=False)
        self.stem = nn.Conv2d(channels, base, 3, padding=1)
        self.down1 = ResBlock(base, base, emb, groups)
        self.downsample = nn.Conv2d(base, base, 3, stride=2, padding=1)
        self.down2 = ResBlock(base, 2 * base, emb, groups)
        self.mid = ResBlock(2 * base, 2 * base, emb, groups)
        self.up1 = ResBlock(3 * base, base, emb, groups)
        self.head_gn = nn.GroupNorm(groups, base, eps=1e-5)
        self.head = nn.Conv2d(base, channels, 3, padding=1)

    def forward(self, x, cond, scale, label):
        a = cond @ self.freq
        e = self.d2(F.silu(self.d1(torch.cat([torch.sin(a), torch.cos(a)], 1)))) + self.cemb(label)
        h1 = self.down1(self.stem(x), e)
        h2 = self.down2(self.downsample(h1), e)
        m = self.mid(h2, e)
        u = F.interpolate(m, scale_factor=2, mode="nearest")
        h3 = self.up1(torch.cat([u, h1], 1), e)
        return self.head(F.silu(self.head_gn(h3))) * scale[:, :, None, None]


def timed(fn, seconds):
    for _ in range(3):
        fn()
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        calls += 1
    return (time.perf_counter() - t0) / calls * 1e3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = UNet().eval()
    weights = sum(p.numel() for p in net.parameters())
    print(f"network torch-unet(1x28x28, base 16, 10 classes) weights={weights} torch={torch.__version__} "
          f"threads={torch.get_num_threads()}")
    for batch in (1, 16, 64, 256):
        x = torch.randn(batch, 1, 28, 28)
        cond = torch.rand(batch, 1)
        scale = -torch.ones(batch, 1)
        label = F.one_hot(torch.arange(batch) % 10, 11).float()
        with torch.inference_mode():
            eager = timed(lambda: net(x, cond, scale, label), args.seconds)
        with torch.no_grad():
            traced = torch.jit.trace(net, (x, cond, scale, label))
            traced = torch.jit.freeze(traced)
            script = timed(lambda: traced(x, cond, scale, label), args.seconds)
        print(f"batch={batch} eager_forward_ms={eager:.2f} eager_images_per_s={batch / eager * 1e3:.0f} "
              f"torchscript_forward_ms={script:.2f} torchscript_images_per_s={batch / script * 1e3:.0f}")


if __name__ == "__main__":
    main()
