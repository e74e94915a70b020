"""PyTorch reference for tools/bench/images: VKD's training image pipeline (data/misc.py) with PIL + torchvision in a
DataLoader, over the same tracklets and batches as the TypeScript run.

Usage: torch_pipeline.py CONFIG WORKERS. CONFIG: a JSON file {"tracklets": [[path, ...], ...], "batches":
[[index, ...], ...], "frames": T, "height": H, "width": W, "repeats": R}; WORKERS: DataLoader num_workers. Prints one JSON line {"framesPerSecond": [...], "frames": n, ...}.
"""
import json
import sys
import time

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image


class TrackletDataset(torch.utils.data.Dataset):
    """One item = one tracklet: `frames` indices by VKD's RandomTemporalChunkCrop, each frame augmented independently."""

    def __init__(self, tracklets, frames, height, width):
        self.tracklets = tracklets
        self.frames = frames
        self.transform = T.Compose([
            T.Resize((height, width), interpolation=T.InterpolationMode.BICUBIC),
            T.Pad(10),
            T.RandomCrop((height, width)),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            T.RandomErasing(p=0.5, scale=(0.02, 0.4), ratio=(0.3, 3.3), value=0),
        ])

    def __len__(self):
        return len(self.tracklets)

    def chunk_indices(self, length):
        n = self.frames
        if length < n:
            return list(range(length)) + [length - 1] * (n - length)
        size = -(-length // n)
        padded = list(range(length)) + [length - 1] * (size * n - length)
        return [padded[i * size + np.random.randint(size)] for i in range(n)]

    def __getitem__(self, index):
        paths = self.tracklets[index]
        frames = [self.transform(Image.open(paths[i]).convert("RGB")) for i in self.chunk_indices(len(paths))]
        return torch.stack(frames), index


class FixedBatches(torch.utils.data.Sampler):
    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def main():
    with open(sys.argv[1]) as handle:
        config = json.load(handle)
    dataset = TrackletDataset(config["tracklets"], config["frames"], config["height"], config["width"])
    rates = []
    frames = 0
    for _ in range(config["repeats"]):
        loader = torch.utils.data.DataLoader(dataset, batch_sampler=FixedBatches(config["batches"]), num_workers=int(sys.argv[2]))
        start = time.perf_counter()
        frames = 0
        for batch, _ in loader:
            frames += batch.shape[0] * batch.shape[1]
        rates.append(frames / (time.perf_counter() - start))
    print(json.dumps({"framesPerSecond": rates, "frames": frames, "torch": torch.__version__, "torchvision": torchvision.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
