"""PyTorch reference for tools/bench/train: the same workloads as train-bench.ts, same shapes and losses.

ResNet (torchvision, random init) with last stride 1, GAP, BNNeck (BatchNorm1d, frozen bias) and a bias-free
classifier; loss = CE + batch-hard soft-margin triplet on the pre-BNNeck embeddings; Adam(lr 1e-4).
Usage: python3 torch_train_step.py '{"workload":"teacher","backbone":"resnet18","height":128,"width":64,
        "batch":8,"steps":5,"warmup":2,"threads":2,"device":"cpu"}'
Prints one JSON object on the last line.
"""
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import torchvision


class ReidNet(torch.nn.Module):
    def __init__(self, backbone, num_identities):
        super().__init__()
        net = getattr(torchvision.models, backbone)()
        # Last stride 1: layer4's first block keeps the resolution (torchvision puts the stride on conv1 of a
        # BasicBlock and on conv2 of a Bottleneck; the shortcut 1x1 conv has it too).
        block = net.layer4[0]
        for conv in [block.conv1, block.conv2, block.downsample[0]]:
            conv.stride = (1, 1)
        self.features = torch.nn.Sequential(*list(net.children())[:-2])
        dim = net.fc.in_features
        self.bnneck = torch.nn.BatchNorm1d(dim)
        self.bnneck.bias.requires_grad_(False)
        self.classifier = torch.nn.Linear(dim, num_identities, bias=False)

    def forward(self, x):
        embeddings = self.features(x).mean(dim=(2, 3))
        return embeddings, self.classifier(self.bnneck(embeddings))


def batch_hard_soft_triplet(embeddings, labels):
    distances = torch.cdist(embeddings, embeddings)
    same = labels[:, None] == labels[None, :]
    hardest_positive = (distances * same).max(dim=1).values
    hardest_negative = (distances + same * 1e6).min(dim=1).values
    return F.softplus(hardest_positive - hardest_negative).mean()


def sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def main():
    options = json.loads(sys.argv[1] if len(sys.argv) > 1 else '{}')
    device = options.get('device', 'cpu')
    if 'threads' in options:
        torch.set_num_threads(options['threads'])
    if device == 'cuda':
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    num_identities = options.get('numIdentities', 625)
    t = options.get('framesPerTracklet', 1)
    batch = options['batch']
    model = ReidNet(options['backbone'], num_identities).to(device)
    teacher = None
    if options['workload'] == 'distill':
        teacher = ReidNet(options['backbone'], num_identities).to(device)
        teacher.train()
        for p in teacher.parameters():
            p.requires_grad_(False)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    frames = torch.randn(batch, 3, options['height'], options['width'], device=device)
    tracklets = batch // t
    k = 4 if tracklets >= 8 else 2
    labels = (torch.arange(tracklets, device=device) // k)
    teacher_frames = options.get('teacherFrames', batch * 4)
    teacher_input = torch.randn(teacher_frames, 3, options['height'], options['width'], device=device) if teacher else None

    def step():
        if options['workload'] == 'extract':
            model.eval()
            with torch.no_grad():
                embeddings, _ = model(frames)
            sync(device)
            return 0.0
        model.train()
        embeddings, logits = model(frames)
        embeddings = embeddings.view(tracklets, t, -1).mean(1)
        logits = logits.view(tracklets, t, -1).mean(1)
        loss = F.cross_entropy(logits, labels) + batch_hard_soft_triplet(embeddings, labels)
        if teacher is not None:
            with torch.no_grad():
                t_emb, t_logits = teacher(teacher_input)
                t_emb = t_emb.view(tracklets, -1, t_emb.shape[-1]).mean(1)
                t_logits = t_logits.view(tracklets, -1, t_logits.shape[-1]).mean(1)
            tau = 10.0
            kd = F.kl_div(F.log_softmax(logits / tau, 1), F.softmax(t_logits / tau, 1), reduction='batchmean') * tau * tau
            dp = ((torch.cdist(embeddings, embeddings) ** 2 - torch.cdist(t_emb, t_emb) ** 2) ** 2).mean() * 0.5
            loss = loss + 0.1 * kd + 1e-4 * dp
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = loss.item()
        sync(device)
        return value

    for _ in range(options.get('warmup', 2)):
        step()
    times = []
    cpu_times = []
    for _ in range(options.get('steps', 5)):
        start = time.perf_counter()
        cpu_start = time.process_time()
        step()
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu_start) * 1000)
    ms = statistics.median(times)
    images = batch + (teacher_frames if teacher else 0)
    print(json.dumps({**options, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'msPerStep': round(ms, 1), 'cpuMsPerStep': round(statistics.median(cpu_times)),
                      'loadAverage': [round(x, 2) for x in os.getloadavg()], 'imagesPerSecond': round(images / (ms / 1000), 2),
                      'stepTimesMs': [round(x) for x in times],
                      # Peak resident set size of the process (Linux ru_maxrss is in KiB), as GNU time -v reports it.
                      'peakRssMB': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == '__main__':
    main()
