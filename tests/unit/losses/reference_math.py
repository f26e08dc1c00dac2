"""Hand-written reference computations of the loss formulas, written from METHODS.md independently of
``crossalign.losses``: plain Python loops over rows and candidates, explicit softmax, float64.

Embeddings come in as lists of rows (lists of floats); every function returns plain floats.
"""

from __future__ import annotations

import math

import torch


def rows(t: torch.Tensor) -> list[list[float]]:
    return t.detach().double().tolist()


def cos(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


def kl(p: list[float], q: list[float]) -> float:
    """KL(P ‖ Q) = Σ p log(p / q), with 0 log 0 = 0."""
    return sum(pi * (math.log(pi) - math.log(qi)) for pi, qi in zip(p, q) if pi > 0)


def jsd(p: list[float], q: list[float]) -> float:
    m = [(pi + qi) / 2 for pi, qi in zip(p, q)]
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def ce(logits: list[float], target: int) -> float:
    return -math.log(softmax(logits)[target])


# ---------------------------------------------------------------------------------------------------- CLEAR
def clear_reference(q_en, d_pos, d_negs, q_x, q_negs, scale=20.0, kl_direction="rev||fwd"):
    """(L_fwd, L_rev, L_kl) of METHODS.md §1 for one device's batch.

    Candidates are laid out column by column: forward [d+_1..d+_B, neg1_1..neg1_B, ...], reverse
    [q_x_1..q_x_B, negq1_1..negq1_B, ...]; row i's target is index i in both.
    """
    q_en, d_pos, q_x = rows(q_en), rows(d_pos), rows(q_x)
    d_negs = [rows(t) for t in d_negs]
    q_negs = [rows(t) for t in q_negs]
    batch = len(q_en)
    passages = list(d_pos) + [neg[j] for neg in d_negs for j in range(batch)]
    queries = list(q_x) + [neg[j] for neg in q_negs for j in range(batch)]
    fwd = rev = div = 0.0
    for i in range(batch):
        forward_logits = [scale * cos(q_en[i], p) for p in passages]
        reverse_logits = [scale * cos(d_pos[i], q) for q in queries]
        fwd += ce(forward_logits, i)
        rev += ce(reverse_logits, i)
        if len(passages) == len(queries):
            p_fwd, p_rev = softmax(forward_logits), softmax(reverse_logits)
            div += kl(p_rev, p_fwd) if kl_direction == "rev||fwd" else kl(p_fwd, p_rev)
    return fwd / batch, rev / batch, div / batch


# ---------------------------------------------------------------------------------------------------- JSD
def jsd_alignment_reference(q_x, q_en, d_en, d_x=None, scale=20.0, mask_other_gold=True):
    """(InfoNCE, JSD) of our reading of METHODS.md §2: C = [every d_en, every d_x]; per gold, the row's other gold
    removed from the denominator; JSD between softmax(s(q_x, C)) and softmax(s(q_en, C))."""
    q_x, q_en, d_en = rows(q_x), rows(q_en), rows(d_en)
    d_x = None if d_x is None else rows(d_x)
    batch = len(q_x)
    candidates = list(d_en) + ([] if d_x is None else list(d_x))
    infonce = divergence = 0.0
    for i in range(batch):
        golds = [i] if d_x is None else [i, batch + i]
        logits_x = [scale * cos(q_x[i], c) for c in candidates]
        logits_en = [scale * cos(q_en[i], c) for c in candidates]
        row = 0.0
        for g in golds:
            kept = [j for j in range(len(candidates)) if j == g or j not in golds or not mask_other_gold]
            denominator = sum(math.exp(logits_x[j]) for j in kept)
            row += -(logits_x[g] - math.log(denominator))
        infonce += row / len(golds)
        divergence += jsd(softmax(logits_x), softmax(logits_en))
    return infonce / batch, divergence / batch


def embedding_jsd_reference(q_x, q_en, embedding_scale=20.0):
    q_x, q_en = rows(q_x), rows(q_en)
    total = 0.0
    for a, b in zip(q_x, q_en):
        na = math.sqrt(sum(x * x for x in a))
        nb = math.sqrt(sum(x * x for x in b))
        total += jsd(softmax([embedding_scale * x / na for x in a]), softmax([embedding_scale * x / nb for x in b]))
    return total / len(q_x)


# ---------------------------------------------------------------------------------------------------- multi-way
def pairwise_reference(columns, scale=20.0):
    """Mean over ordered pairs (a, b), a != b, of mean_i CE(anchor a_i over {b_j}, target b_i)."""
    columns = [rows(c) for c in columns]
    batch = len(columns[0])
    pair_losses = []
    for a in range(len(columns)):
        for b in range(len(columns)):
            if a == b:
                continue
            total = 0.0
            for i in range(batch):
                total += ce([scale * cos(columns[a][i], columns[b][j]) for j in range(batch)], i)
            pair_losses.append(total / batch)
    return sum(pair_losses) / len(pair_losses)


def supcon_reference(columns, scale=20.0, mask_other_positives=True):
    """Every text t = (column c, row i) is an anchor; positives: (c', i), c' != c; negatives: rows j != i.
    Per positive p: -log(exp(s_tp) / (exp(s_tp) + Σ_neg exp(s_tn) [+ Σ_other positives, if not masked])).
    Mean over positives, then over anchors."""
    columns = [rows(c) for c in columns]
    k, batch = len(columns), len(columns[0])
    texts = [(c, i) for c in range(k) for i in range(batch)]
    total = 0.0
    for c, i in texts:
        anchor = columns[c][i]
        positives = [(c2, i) for c2 in range(k) if c2 != c]
        negatives = [(c2, j) for c2 in range(k) for j in range(batch) if j != i]
        neg_sum = sum(math.exp(scale * cos(anchor, columns[c2][j])) for c2, j in negatives)
        row = 0.0
        for c2, _ in positives:
            s_pos = scale * cos(anchor, columns[c2][i])
            denominator = math.exp(s_pos) + neg_sum
            if not mask_other_positives:
                denominator += sum(math.exp(scale * cos(anchor, columns[c3][i])) for c3, _ in positives if c3 != c2)
            row += -(s_pos - math.log(denominator))
        total += row / len(positives)
    return total / len(texts)


# ---------------------------------------------------------------------------------------------------- baselines
def infonce_reference(anchor, positive, negatives=(), scale=20.0):
    anchor, positive = rows(anchor), rows(positive)
    negatives = [rows(n) for n in negatives]
    batch = len(anchor)
    candidates = list(positive) + [n[j] for n in negatives for j in range(batch)]
    return sum(ce([scale * cos(anchor[i], c) for c in candidates], i) for i in range(batch)) / batch


def symmetric_reference(anchor, positive, negatives=(), scale=20.0):
    """½ (CE(anchor → positives ∪ negatives) + CE(positive → anchors))."""
    forward = infonce_reference(anchor, positive, negatives, scale)
    a, p = rows(anchor), rows(positive)
    batch = len(a)
    backward = sum(ce([scale * cos(p[i], a[j]) for j in range(batch)], i) for i in range(batch)) / batch
    return 0.5 * (forward + backward)


def margin_reference(source, target, margin=0.3, scale=20.0):
    s, t = rows(source), rows(target)
    batch = len(s)
    out = []
    for anchors, candidates in ((s, t), (t, s)):
        total = 0.0
        for i in range(batch):
            logits = [scale * (cos(anchors[i], candidates[j]) - (margin if i == j else 0.0)) for j in range(batch)]
            total += ce(logits, i)
        out.append(total / batch)
    return tuple(out)


def distillation_reference(student_src, student_tgt, teacher_src):
    """½ (mean over elements of (s(src) - t(src))² + mean of (s(tgt) - t(src))²)."""
    s, t, teacher = rows(student_src), rows(student_tgt), rows(teacher_src)
    n = len(s) * len(s[0])
    mse_src = sum((x - y) ** 2 for a, b in zip(s, teacher) for x, y in zip(a, b)) / n
    mse_tgt = sum((x - y) ** 2 for a, b in zip(t, teacher) for x, y in zip(a, b)) / n
    return 0.5 * (mse_src + mse_tgt)
