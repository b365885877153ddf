"""The classifier score: the Inception Score (Salimans et al. 2016) with a data set's own classifier.

    CS = exp( E_x KL(p(y|x) ‖ p(y)) ),   p(y) = E_x p(y|x)

It lies in [1, K] for K classes: high when each sample is classified confidently and the classes are
used evenly. For MNIST it is computed with gankit's MNIST classifier instead of Inception-v3, so its
values are not comparable with published Inception Scores.
"""

from __future__ import annotations

import torch

from gankit.metrics.errors import MetricInputError


def classifier_score(logits: torch.Tensor, splits: int = 1) -> tuple[float, float]:
    """(mean, std) of the score over ``splits`` equal parts of the samples (10 in Salimans et al.)."""
    if logits.dim() != 2 or len(logits) < splits or splits < 1:
        raise MetricInputError(f"classifier score needs logits (N, K) with N >= splits >= 1, got {tuple(logits.shape)}")
    log_p = torch.log_softmax(logits.detach().cpu().double(), dim=1)
    scores = []
    for part in log_p.chunk(splits):
        log_marginal = torch.logsumexp(part, dim=0) - torch.log(torch.tensor(float(len(part)), dtype=torch.float64))
        kl = (part.exp() * (part - log_marginal)).sum(dim=1).mean()
        scores.append(kl.exp())
    values = torch.stack(scores)
    return float(values.mean()), float(values.std()) if splits > 1 else 0.0
