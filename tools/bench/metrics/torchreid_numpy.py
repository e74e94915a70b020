"""Reference for tools/bench/metrics: cosine distances with numpy + torchreid's per-query `eval_market1501` loop.

The loop is the algorithm of torchreid/metrics/rank.py (argsort, junk removal, cumsum CMC, non-interpolated AP),
written with plain numpy as a Python user would run it. Usage: torchreid_numpy.py DIR (DIR holds the .npy inputs).
"""
import json
import resource
import sys
import time

import numpy as np


def eval_market1501(distmat, q_pids, g_pids, q_camids, g_camids, max_rank):
    num_q, num_g = distmat.shape
    if num_g < max_rank:
        max_rank = num_g
    indices = np.argsort(distmat, axis=1)
    matches = (g_pids[indices] == q_pids[:, np.newaxis]).astype(np.int32)
    all_cmc, all_AP, num_valid_q = [], [], 0.0
    for q_idx in range(num_q):
        q_pid, q_camid = q_pids[q_idx], q_camids[q_idx]
        order = indices[q_idx]
        remove = (g_pids[order] == q_pid) & (g_camids[order] == q_camid)
        keep = np.invert(remove)
        raw_cmc = matches[q_idx][keep]
        if not np.any(raw_cmc):
            continue
        cmc = raw_cmc.cumsum()
        cmc[cmc > 1] = 1
        all_cmc.append(cmc[:max_rank])
        num_valid_q += 1.0
        num_rel = raw_cmc.sum()
        tmp_cmc = raw_cmc.cumsum()
        tmp_cmc = [x / (i + 1.0) for i, x in enumerate(tmp_cmc)]
        tmp_cmc = np.asarray(tmp_cmc) * raw_cmc
        all_AP.append(tmp_cmc.sum() / num_rel)
    all_cmc = np.asarray(all_cmc).astype(np.float32)
    return all_cmc.sum(0) / num_valid_q, float(np.mean(all_AP)), int(num_valid_q)


def main(folder):
    q = np.load(f"{folder}/query.npy")
    g = np.load(f"{folder}/gallery.npy")
    q_pids, g_pids = np.load(f"{folder}/query_ids.npy"), np.load(f"{folder}/gallery_ids.npy")
    q_cams, g_cams = np.load(f"{folder}/query_cams.npy"), np.load(f"{folder}/gallery_cams.npy")
    start = time.perf_counter()
    qn = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    gn = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    distmat = 1.0 - qn @ gn.T
    distances_s = time.perf_counter() - start
    cmc, mAP, valid = eval_market1501(distmat, q_pids, g_pids, q_cams, g_cams, 50)
    total_s = time.perf_counter() - start
    print(json.dumps({
        "distances_s": distances_s,
        "ranking_s": total_s - distances_s,
        "total_s": total_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rank1": float(cmc[0]), "rank5": float(cmc[4]), "mAP": mAP, "valid_queries": valid,
        "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
