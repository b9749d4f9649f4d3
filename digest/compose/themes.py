"""The theme a paper belongs to, for the trending digest's headings (it has no topics to group
under). A fixed list of research themes, each named by cue phrases; a paper takes the theme
whose cues it uses most (a cue in the title counts three times a mention in the abstract), and
none when no theme's cues are used enough, so a heading never claims what the paper is not."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from digest.ranking.text import TEXT_LIMIT, tokens
from papercore.papers import Paper

# Each theme's cue phrases, comma-separated. Ordered from specific to general: on a tie the
# earlier theme wins ("diffusion" images are generation before they are vision).
THEMES: tuple[tuple[str, str], ...] = (
    (
        "Multimodal models",
        "vision-language, vision language, multimodal, multi-modal, image-text, text-image, "
        "visual question answering, clip, captioning",
    ),
    (
        "Image and video generation",
        "diffusion model, diffusion, text-to-image, image generation, video generation, "
        "generative adversarial, gan, image synthesis, image editing, text-to-video",
    ),
    (
        "Language models",
        "language model, llm, large language, gpt, bert, instruction tuning, prompt, machine "
        "translation, question answering, natural language, text generation, in-context "
        "learning, chatbot",
    ),
    ("Speech and audio", "speech, audio, music, speaker, spoken, text-to-speech, asr"),
    ("Robotics", "robot, robotic, manipulation, embodied, locomotion, autonomous driving"),
    (
        "Reinforcement learning",
        "reinforcement learning, policy gradient, reward, bandit, bellman, deep q network, "
        "markov decision",
    ),
    (
        "Graph learning",
        "graph neural, gnn, graph, subgraph, message passing, node classification, knowledge graph",
    ),
    (
        "Spiking and brain-inspired networks",
        "spiking, neuromorphic, hopfield, associative memory, spike",
    ),
    ("Quantum machine learning", "quantum"),
    (
        "Science and medicine",
        "medical, clinical, health, protein, molecule, molecular, drug, climate, physics, "
        "chemistry, biology, genomic, lesion, patient",
    ),
    (
        "Recommendation and retrieval",
        "recommendation, recommender, retrieval, retriever, click-through, search engine, "
        "semantic search",
    ),
    ("Time series", "time series, forecasting"),
    (
        "Continual and meta-learning",
        "continual learning, catastrophic forgetting, incremental learning, meta-learning, meta "
        "learning, few-shot, lifelong, domain adaptation",
    ),
    (
        "Architecture search",
        "neural architecture search, architecture search, nas, supernet, hypernetwork, search "
        "space",
    ),
    (
        "Compression and efficiency",
        "quantization, quantized, pruning, pruned, binarization, binary neural, low-bit, "
        "knowledge distillation, compression, sparsity, sparse, mixed precision, lottery "
        "ticket, efficient inference, distillation",
    ),
    (
        "Hardware and systems",
        "gpu, accelerator, fpga, asic, hardware, compiler, pipeline parallelism, distributed "
        "training, dataflow, throughput, edge device, mobile device, energy",
    ),
    ("Mixture of experts", "mixture of experts, mixture-of-experts, experts, router, routing"),
    (
        "Computer vision",
        "object detection, segmentation, image classification, vision transformer, vit, visual "
        "recognition, convolutional, cnn, convnet, point cloud, depth estimation, pose "
        "estimation, super-resolution, imagenet, image",
    ),
    (
        "Robustness, privacy and safety",
        "adversarial, robustness, privacy, federated, attack, backdoor, jailbreak, alignment, "
        "fairness, safety, out-of-distribution",
    ),
    (
        "Training and optimisation",
        "optimizer, gradient descent, sgd, convergence, learning rate, batch normalization, "
        "normalization, initialization, loss landscape, backpropagation, training dynamics",
    ),
    (
        "Theory and interpretability",
        "generalization, overparameterization, expressivity, expressive power, "
        "interpretability, explainability, information bottleneck, neural tangent, theoretical",
    ),
)
TITLE_WEIGHT = 3  # a cue in the title says more about the paper than one in the abstract
ABSTRACT_CAP = 2  # mentions of one cue in the abstract that count (repetition is not topic)
ENOUGH = 3  # a title cue, or several mentions in the abstract


def _grams(words: list[str]) -> Counter[tuple[str, ...]]:
    found: Counter[tuple[str, ...]] = Counter()
    for n in (1, 2, 3):
        found.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return found


@lru_cache(maxsize=1)
def _cues() -> tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]:
    """Each theme's cues as stemmed word sequences (the ranking's own tokens, so plurals and
    word forms match: "robots", "robotic")."""
    compiled = []
    for name, phrases in THEMES:
        cues = [p.strip().replace("-", " ") for p in phrases.split(",")]
        stems = {tuple(t) for t in tokens(cues) if t}
        compiled.append((name, tuple(sorted(stems))))
    return tuple(compiled)


def theme_scores(title: str, abstract: str) -> dict[str, int]:
    """How strongly the text uses each theme's cues (themes it does not use are absent)."""
    title_words, abstract_words = tokens([title.replace("-", " "), abstract.replace("-", " ")])
    in_title, in_abstract = _grams(title_words), _grams(abstract_words)
    scores = {}
    for name, cues in _cues():
        score = sum(
            TITLE_WEIGHT * (cue in in_title) + min(in_abstract[cue], ABSTRACT_CAP) for cue in cues
        )
        if score:
            scores[name] = score
    return scores


def theme_of(paper: Paper) -> str | None:
    """The paper's theme: the one whose cues it uses most (ties to the more specific theme),
    or None when none is used enough to say so."""
    abstract = paper.abstract or paper.ai_summary or ""
    return _theme(paper.title[:TEXT_LIMIT], abstract[:TEXT_LIMIT])  # the cache keeps bounded keys


@lru_cache(maxsize=65_536)
def _theme(title: str, abstract: str) -> str | None:
    scores = theme_scores(title, abstract)
    if not scores:
        return None
    order = {name: i for i, (name, _) in enumerate(THEMES)}
    best = max(scores, key=lambda name: (scores[name], -order[name]))
    return best if scores[best] >= ENOUGH else None
