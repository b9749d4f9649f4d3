"""Why a paper was picked, said truthfully.

"matches: X" only when the paper contains every word of X (stemmed); a paper that scores on X
without containing all its words (word pairs, pseudo-relevance feedback, embeddings) is "related
to: X". A pick lifted by the subscriber's liked papers says "like: <title of the nearest one>".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from digest.ranking.examples import Learned

MAX_REASONS = 2
TITLE_CHARS = 120  # longer titles are cut, with an ellipsis
# A pick names the liked paper it resembles once the likes add this much relevance, or when
# its topics alone would not have picked it.
LIKE_REASON = 0.05


def topic_reasons(
    row: int,
    column: int,
    topics: Sequence[tuple[str, float]],
    matches: np.ndarray,
    covers: Callable[[str], np.ndarray],
    floor: float,
) -> list[str]:
    """The liked topics the paper scored on (best first, at most ``MAX_REASONS``), as
    "matches: ..." for those whose words it contains and "related to: ..." for the others."""
    named = sorted(
        (
            (float(matches[t, column]), phrase)
            for t, (phrase, weight) in enumerate(topics)
            if weight > 0 and matches[t, column] >= floor
        ),
        reverse=True,
    )[:MAX_REASONS]
    exact = [phrase for _, phrase in named if covers(phrase)[row]]
    loose = [phrase for _, phrase in named if not covers(phrase)[row]]
    found = []
    if exact:
        found.append("matches: " + ", ".join(exact))
    if loose:
        found.append("related to: " + ", ".join(loose))
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
