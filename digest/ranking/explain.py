"""Why a paper was picked, said truthfully.

"matches: X" only when the paper contains every word of X (stemmed); a paper that scores on X
without containing all its words (word pairs, pseudo-relevance feedback, embeddings) is "related
to: X". A pick lifted by the subscriber's liked papers says "like: <title of the nearest one>".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from digest.ranking.examples import Learned

MAX_REASONS = 2
TITLE_CHARS = 120  # longer titles are cut, with an ellipsis
# A pick names the liked paper it resembles once the likes add this much relevance, or when
# its topics alone would not have picked it.
LIKE_REASON = 0.05


def topic_reasons(
    topics: Sequence[tuple[str, float]],
    matches: np.ndarray,
    covered: np.ndarray,
    floor: float,
) -> list[list[str]]:
    """For each pick (columns of ``matches``, topics x picks), the liked topics it scored on,
    best first, at most ``MAX_REASONS``: "matches: ..." for those whose words it contains
    (``covered``) and "related to: ..." for the others."""
    liked = [t for t, (_, w) in enumerate(topics) if w > 0]
    found = []
    for scored, has in zip(matches.T.tolist(), covered.T.tolist(), strict=True):
        named = [t for t in liked if scored[t] >= floor]
        if len(named) > 1:  # best first; a reversed sort keeps ties in the subscriber's order
            named = sorted(named, key=scored.__getitem__, reverse=True)[:MAX_REASONS]
        exact = [topics[t][0] for t in named if has[t]]
        loose = [topics[t][0] for t in named if not has[t]]
        reasons = []
        if exact:
            reasons.append("matches: " + ", ".join(exact))
        if loose:
            reasons.append("related to: " + ", ".join(loose))
        found.append(reasons)
    return found


def like_reason(row: int, topical: float, learned: Learned | None, floor: float) -> str | None:
    """ "like: <title>" when the subscriber's liked papers lifted this pick."""
    if learned is None or not learned.liked:
        return None
    gain = learned.share * max(float(learned.lift[row]) - topical, 0.0)
    if gain <= 0 or (gain < LIKE_REASON and topical >= floor):
        return None
    title = " ".join(learned.liked[int(learned.nearest[row])].title.split())
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    return "like: " + title
