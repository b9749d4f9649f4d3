"""The lexical relevance model: BM25 over title + abstract, with phrase terms and feedback.

Every paper is indexed once into a sparse paper × term matrix of BM25 weights, where the terms
are stemmed words and adjacent word pairs ("wireless network", "graph neural"). A topic is scored
against every paper at once by summing columns, and the result is cached, because topics repeat
across subscribers.

Ambiguous words such as "network" are handled without word lists: a paper that contains the
topic's own word pairs ("wireless network") scores above one that only shares its words. (An
IDF-coverage penalty on partial matches was tried too; it helped the profiles it was tuned on
and cost a fifth of nDCG on profiles judged afterwards, so plain BM25 summing stays.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from digest.ranking.text import bigrams, query_tokens, tokens

K1 = 1.2
B = 0.75
TITLE_REPEAT = 2  # the title counts this many times: it is the paper's own summary
PHRASE_WEIGHT = 0.5  # a matched word pair counts this much on top of its words
# The score of a paper that matches every word of the topic once, in an abstract of average
# length, maps to this relevance; more matches push relevance towards 1.
IDEAL_RELEVANCE = 0.7
FEEDBACK_WEIGHT = 0.5
FEEDBACK_DOCS = 8
FEEDBACK_TERMS = 10


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """A topic scored against every paper: relevance in [0, 1], one value per paper."""

    phrase: str
    relevance: np.ndarray


class LexicalIndex:
    """BM25 weights of every (paper, term) pair, terms being stemmed words and word pairs."""

    def __init__(self, fields: Sequence[tuple[str, str]]) -> None:
        titles = tokens([title for title, _ in fields])
        abstracts = tokens([abstract for _, abstract in fields])
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        lengths = np.zeros(len(fields), dtype=np.float32)
        for doc, (title, abstract) in enumerate(zip(titles, abstracts, strict=True)):
            terms = (title + bigrams(title)) * TITLE_REPEAT + abstract + bigrams(abstract)
            lengths[doc] = len(title) * TITLE_REPEAT + len(abstract)
            for term in terms:
                cols.append(vocab.setdefault(term, len(vocab)))
                rows.append(doc)
        n_docs, n_terms = len(fields), len(vocab)
        counts = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_docs, n_terms)
        )
        counts.sum_duplicates()
        df = np.bincount(counts.indices, minlength=n_terms).astype(np.float32)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        average = float(lengths.mean()) if n_docs else 1.0
        norm = K1 * (1 - B + B * lengths / max(average, 1.0))
        tf = counts.data
        doc_of = np.repeat(np.arange(n_docs), np.diff(counts.indptr))
        counts.data = (self.idf[counts.indices] * tf * (K1 + 1) / (tf + norm[doc_of])).astype(
            np.float32
        )
        self.weights = counts.tocsc()
        self.vocab = vocab
        self.n_docs = n_docs
        self._average = max(average, 1.0)
        # vocab is in column order: the single-word terms are term_vectors' columns
        singles = [term for term in vocab if " " not in term]
        self._single_column = {term: k for k, term in enumerate(singles)}
        self._singles = np.array([vocab[t] for t in singles], dtype=np.int64)
        self._single_idf = self.idf[self._singles]
        self._rows = self.weights.tocsr()
        self._pair_mask = np.array([" " in t for t in vocab], dtype=bool)
        self._phrase_idf_floor = float(np.log1p((n_docs - 0.5) / 1.5)) if n_docs else 1.0

    def match(self, phrase: str) -> TopicMatch:
        """Relevance of every paper to one topic phrase (0 when no word of it occurs)."""
        words = list(dict.fromkeys(query_tokens(phrase)))
        pairs = [p for p in dict.fromkeys(bigrams(list(query_tokens(phrase))))]
        known = [self.vocab[w] for w in words if w in self.vocab]
        if not known or self.n_docs == 0:
            return TopicMatch(phrase, np.zeros(self.n_docs, dtype=np.float32))
        score: np.ndarray = np.asarray(self.weights[:, known].sum(axis=1), dtype=np.float32).ravel()
        # Unknown words carry the information of a term seen once: a topic half made of words
        # no paper uses is at best a half match.
        missing_idf = self._phrase_idf_floor * (len(words) - len(known))
        ideal = float(self.idf[known].sum() + missing_idf)
        known_pairs = [self.vocab[p] for p in pairs if p in self.vocab]
        if pairs:
            pair_idf = np.array(
                [
                    self.idf[self.vocab[p]] if p in self.vocab else self._phrase_idf_floor
                    for p in pairs
                ],
                dtype=np.float32,
            )
            ideal += PHRASE_WEIGHT * float(pair_idf.sum())
            if known_pairs:
                score = (
                    score
                    + PHRASE_WEIGHT * np.asarray(self.weights[:, known_pairs].sum(axis=1)).ravel()
                )
        if FEEDBACK_WEIGHT > 0:
            score = score + FEEDBACK_WEIGHT * ideal * self._feedback(score, set(known))
        relevance = 1.0 - np.power(1.0 - IDEAL_RELEVANCE, score / ideal)
        return TopicMatch(phrase, relevance.astype(np.float32))

    def _feedback(self, score: np.ndarray, original: set[int]) -> np.ndarray:
        """Pseudo-relevance feedback: the words that weigh most in the best-matching papers,
        as a second query. It finds papers that say the same thing in other words."""
        top = (
            np.argpartition(score, -FEEDBACK_DOCS)[-FEEDBACK_DOCS:]
            if (len(score) > FEEDBACK_DOCS)
            else np.arange(len(score))
        )
        top = top[score[top] > 0]
        if len(top) == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        rows = self._rows[top]
        doc_w = score[top] / score[top].sum()
        terms, entry_term = np.unique(rows.indices, return_inverse=True)
        term_w = np.bincount(entry_term, weights=rows.data * np.repeat(doc_w, np.diff(rows.indptr)))
        term_w[self._pair_mask[terms] | np.isin(terms, list(original))] = 0
        if len(term_w) > FEEDBACK_TERMS:
            best = np.argpartition(term_w, -FEEDBACK_TERMS)[-FEEDBACK_TERMS:]
        else:
            best = np.arange(len(term_w))
        best = best[term_w[best] > 0]
        if len(best) == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        w = (term_w[best] / term_w[best].sum()).astype(np.float32)
        expanded = np.asarray(self.weights[:, terms[best]] @ w).ravel()
        return expanded / max(float(expanded.max()), 1e-9)

    def containing(self, phrase: str) -> np.ndarray:
        """Which papers contain the phrase: its one word, or every adjacent pair of its words."""
        words = tokens([phrase])[0]
        terms = bigrams(words) if len(words) > 1 else words
        if not terms or any(t not in self.vocab for t in terms):
            return np.zeros(self.n_docs, dtype=bool)
        present = self.weights[:, [self.vocab[t] for t in terms]] > 0
        return np.asarray(present.sum(axis=1)).ravel() == len(terms)

    def covering(self, phrase: str) -> np.ndarray:
        """Which papers contain every word of the phrase (stemmed; filler such as "papers
        about" ignored), anywhere in title or abstract: what "matches: <phrase>" claims."""
        words = list(dict.fromkeys(query_tokens(phrase)))
        if not words or any(w not in self.vocab for w in words):
            return np.zeros(self.n_docs, dtype=bool)
        # the papers of each word's column, counted (cheaper than slicing the matrix)
        indptr, papers = self.weights.indptr, self.weights.indices
        docs = [papers[indptr[c] : indptr[c + 1]] for c in (self.vocab[w] for w in words)]
        counts = np.bincount(np.concatenate(docs), minlength=self.n_docs)
        return counts == len(words)

    def term_vector(self, title: str, abstract: str) -> sp.csr_matrix:
        """A paper outside the index as a unit row in ``term_vectors``' space (the index's
        idf and length norm; words the index does not know are dropped)."""
        title_words, abstract_words = tokens([title, abstract])
        counts: dict[int, int] = {}
        for word in title_words * TITLE_REPEAT + abstract_words:
            column = self._single_column.get(word)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        size = len(self._single_column)
        if not counts:
            return sp.csr_matrix((1, size), dtype=np.float32)
        columns = np.fromiter(counts, dtype=np.int64)
        tf = np.fromiter(counts.values(), dtype=np.float32)
        length = len(title_words) * TITLE_REPEAT + len(abstract_words)
        norm = K1 * (1 - B + B * length / self._average)
        weights = self._single_idf[columns] * tf * (K1 + 1) / (tf + norm)
        weights = weights / max(float(np.linalg.norm(weights)), 1e-9)
        return sp.csr_matrix(
            (weights.astype(np.float32), (np.zeros(len(columns), dtype=np.int64), columns)),
            shape=(1, size),
        )

    def term_vectors(self) -> sp.csr_matrix:
        """Rows of unit length over single-word terms: what two papers share, for diversity."""
        vectors = self.weights[:, self._singles].tocsr()
        norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms) @ vectors, dtype=np.float32)
