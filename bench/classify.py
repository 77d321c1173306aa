"""Benchmark classification and field extraction on generated letters read by postroom's OCR.

    .venv/bin/python bench/classify.py [--train 300] [--test 300] [--train-seed 1]
                                       [--test-seed 2] [--threshold 0.8] [--fit-calibration]

The corpus: letters from ``flows/samples.py`` (the ten types in turn), composed from the
generator's ``train`` split for training and its ``test`` split for testing, so that test letters
use wording and layouts held out of training. Each letter is rendered as 300 dpi scans and read
with the OCR step's own page reader (``tasks.ocr.read_or_mark``: tesseract, turned upright and
straightened where the reading says so) on 2 threads. The text read is cached per letter under
``.bench/classify/<split>-s<seed>-<generator hash>/<index>.json``, so a second run, or a larger
count, reads only what is new. From an empty cache the default 300 + 300 letters take about
15-30 minutes on a shared 2-core machine (measured 1.5-2.7 s a letter wall-clock, two at a
time, by load); ``--train 150 --test 150`` halves that; cached, the run takes under a minute.

Four classifiers decide the test letters:

    rules only          the taxonomy's rules (tasks.classify.classify_text), decided by
                        tasks.model.combine without a model
    rules + model       with the model (tasks.model.fit_model) trained on the whole train split
    rules + model (5)   with a model trained on only 5 letters of each type
    MLP baseline        paperless-ngx's approach on its own: word 1-2-gram counts
                        (CountVectorizer) and an MLPClassifier; decided when its top
                        probability reaches the threshold

For each: accuracy, macro-F1, the share decided automatically (no review reason) and the
precision of those automatic decisions, and a confusion matrix. Field extraction
(tasks.classify.extract_fields) does not depend on the classifier: its exact-match rates are
printed once, over the test letters whose ground truth has the field. The targets are printed
with PASS or FAIL.

The rules' confidence is a probability calibrated on the train split (the taxonomy's
``scoring.calibration``, see tasks/classify.py); its reliability on the test split is printed per
confidence bin (mean confidence against accuracy) with the expected calibration error (ECE), for
the rules alone and for rules + model.

``--fit-calibration`` re-fits that calibration on the train split only and prints the block to
put into ``schemas/taxonomy.yaml``; it also counts, by cross-validation on the train split, how
often the rules' fallback type and the model's type were right where the rules fell back and
the model named another type (which ``combine`` shows an operator), and exits.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))  # run as a script from anywhere in the checkout

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402
from sklearn.metrics import confusion_matrix, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

import flows.samples  # noqa: E402
from flows.samples import DOC_TYPES, GroundTruth, compose, render_pages  # noqa: E402
from schemas.letter import Classification, Fields, PageImage  # noqa: E402
from schemas.taxonomy import Taxonomy, load_taxonomy  # noqa: E402
from tasks.classify import LetterText, classify_text, extract_fields, score_rules  # noqa: E402
from tasks.model import (  # noqa: E402
    DEFAULT_THRESHOLD,
    Decision,
    RuleEvidence,
    combine,
    fallback_share,
    fit_model,
    fit_rule_calibration,
    prepare,
)
from tasks.ocr import read_or_mark  # noqa: E402

CACHE_DIR = PROJECT_DIR / ".bench" / "classify"
LANGUAGES = "deu+eng"
PAGE_TIMEOUT = 180
THREADS = 2
FEW = 5  # letters per type of the small model
# The fields compared (GroundTruth names them as Fields does).
FIELDS = Fields.names()
FIELD_TARGETS = frozenset({"iban", "amount_total", "aktenzeichen", "date"})
Split = Literal["train", "test"]


@dataclass(frozen=True)
class Letter:
    """One benchmark letter: its ground truth and the text OCR read."""

    truth: GroundTruth
    text: str

    @property
    def doc_type(self) -> str:
        """Return the true type."""
        return self.truth.doc_type


# --- the corpus ------------------------------------------------------------------------------


def generator_hash() -> str:
    """Return a short hash of the sample generator's source, so a changed generator re-reads."""
    source = Path(flows.samples.__file__).read_bytes()
    return hashlib.sha256(source).hexdigest()[:10]


def compose_letter(index: int, seed: int, split: Split) -> tuple[GroundTruth, int]:
    """Return the ``index``-th letter of a corpus (types in turn) and the seed it was drawn with."""
    doc_type = DOC_TYPES[index % len(DOC_TYPES)]
    letter_seed = seed * 1_000_003 + index
    return compose(doc_type, letter_seed, split=split), letter_seed


def ocr_letter(truth: GroundTruth, letter_seed: int) -> str:
    """Render a letter as scans and read every page with postroom's page reader."""
    with tempfile.TemporaryDirectory(prefix="bench-classify-") as workdir:
        texts = []
        for number, image in enumerate(render_pages(truth, letter_seed), 1):
            path = Path(workdir) / f"page-{number:04d}.png"
            image.save(path, dpi=(300, 300))
            page = PageImage(
                letter_id=truth.name, number=number, path=str(path), dpi=300, workdir=workdir
            )
            texts.append(read_or_mark(page, LANGUAGES, PAGE_TIMEOUT).text)
    return "\f".join(texts)


def cached_letter(cache: Path, index: int, seed: int, split: Split) -> Letter:
    """Return a corpus letter, from the cache or read now (and then cached)."""
    path = cache / f"{index:05d}.json"
    truth, letter_seed = compose_letter(index, seed, split)
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored["truth"] == truth.to_json():
            return Letter(truth, stored["text"])
    text = ocr_letter(truth, letter_seed)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps({"truth": truth.to_json(), "text": text}, ensure_ascii=False))
    temp.replace(path)
    return Letter(truth, text)


def corpus(split: Split, seed: int, count: int) -> list[Letter]:
    """Return ``count`` letters of a split, read by OCR on 2 threads (cached)."""
    cache = CACHE_DIR / f"{split}-s{seed}-{generator_hash()}"
    cache.mkdir(parents=True, exist_ok=True)
    started, done = time.monotonic(), 0

    def one(index: int) -> Letter:
        nonlocal done
        letter = cached_letter(cache, index, seed, split)
        done += 1
        if done % 25 == 0 or done == count:
            print(f"  {split}: {done}/{count} letters ({time.monotonic() - started:.0f} s)")
        return letter

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(count)))


# --- deciding --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one classifier decided for the test letters."""

    name: str
    predicted: list[str]
    automatic: list[bool]
    review_reasons: list[tuple[str, ...]] | None = None  # None: the classifier gives none
    confidence: list[float] | None = None  # None: not calibrated, not measured


def decide_all(
    letters: Sequence[Letter],
    rules: Sequence[Classification],
    taxonomy: Taxonomy,
    threshold: float,
    probabilities: Sequence[dict[str, float]] | None,
) -> tuple[list[str], list[bool], list[tuple[str, ...]], list[float]]:
    """Return each letter's final type, whether it was decided automatically, why not, and
    the final confidence."""
    decisions: list[Decision] = [
        combine(
            rule,
            probabilities[index] if probabilities is not None else None,
            taxonomy,
            threshold=threshold,
            text=letter.text,
        )
        for index, (letter, rule) in enumerate(zip(letters, rules, strict=True))
    ]
    return (
        [decision.classification.doc_type for decision in decisions],
        [decision.automatic for decision in decisions],
        [decision.review_reasons for decision in decisions],
        [decision.classification.confidence for decision in decisions],
    )


def few_per_type(letters: Sequence[Letter], count: int) -> list[Letter]:
    """Return the first ``count`` letters of each type."""
    seen: Counter[str] = Counter()
    chosen = []
    for letter in letters:
        if seen[letter.doc_type] < count:
            seen[letter.doc_type] += 1
            chosen.append(letter)
    return chosen


def mlp_baseline(train: Sequence[Letter]) -> Pipeline:
    """Return paperless-ngx's kind of classifier: word 1-2-gram counts and an MLP."""
    pipeline = Pipeline(
        [
            ("counts", CountVectorizer(ngram_range=(1, 2), min_df=0.01)),
            ("mlp", MLPClassifier(tol=0.01, random_state=0)),
        ]
    )
    pipeline.fit([prepare(letter.text) for letter in train], [letter.doc_type for letter in train])
    return pipeline


# --- calibrating the rules ------------------------------------------------------------------


def rule_evidence(text: str, taxonomy: Taxonomy) -> tuple[str, float, float]:
    """Return the rules' top type, its score and the runner-up's score for a letter."""
    letter = LetterText(text)
    scores = {
        name: score_rules(name, kind.rules, letter)[0] for name, kind in taxonomy.types.items()
    }
    ranking = sorted(scores, key=lambda name: -scores[name])  # as classify_text ranks them
    return ranking[0], scores[ranking[0]], scores[ranking[1]] if len(ranking) > 1 else 0.0


def calibration_block(train: Sequence[Letter], taxonomy: Taxonomy) -> dict[str, object]:
    """Return the taxonomy's ``scoring`` section with the rules calibrated on ``train``."""
    evidence: list[RuleEvidence] = []
    fallback: list[bool] = []
    for letter in train:
        top, best, runner_up = rule_evidence(letter.text, taxonomy)
        if best > 0:
            evidence.append((best, runner_up, top == letter.doc_type))
        if best <= 0 or best < taxonomy.scoring.min_score:
            fallback.append(letter.doc_type == taxonomy.fallback)
    calibration = fit_rule_calibration(
        evidence,
        taxonomy.scoring.min_score,
        f"{len(train)} letters of the flows/samples.py train split, OCR'd "
        f"(bench/classify.py --fit-calibration)",
    )
    wrong = sum(1 for *_, ok in evidence if not ok)
    print(
        f"calibration: {len(evidence)} letters with a rule match ({wrong} with a wrong top type), "
        f"{len(fallback)} fell back, {sum(fallback)} of them {taxonomy.fallback}"
    )
    scoring = taxonomy.scoring.model_dump(exclude={"calibration"})
    scoring["fallback_confidence"] = fallback_share(fallback)
    return scoring | {"calibration": calibration.model_dump()}


def fallback_choice(
    train: Sequence[Letter], taxonomy: Taxonomy, threshold: float, repeats: int = 2
) -> None:
    """Count, by cross-validation on ``train``, whose type is right where rules and model differ.

    Where the rules fell back and the held-out model named another type, an operator could be
    shown either; the same is counted where the rules decided a type and the model named
    another.
    """
    labels = np.array([letter.doc_type for letter in train])
    decided = [classify_text(letter.text, taxonomy).doc_type for letter in train]
    counts: Counter[str] = Counter()
    for repeat in range(repeats):
        splitter = StratifiedKFold(5, shuffle=True, random_state=repeat + 1)
        for fit_on, held_out in splitter.split(np.zeros(len(labels)), labels):
            model = fit_model([(train[i].text, train[i].doc_type) for i in fit_on], measured=False)
            for i in held_out:
                probabilities = model.predict(train[i].text)
                named = max(probabilities, key=lambda name: probabilities[name])
                case = "rules fell back" if decided[i] == taxonomy.fallback else "rules decided"
                counts[case] += 1
                if named == decided[i]:
                    continue
                sure = ", model ≥ threshold" if probabilities[named] >= threshold else ""
                counts[f"{case}: model named another type{sure}"] += 1
                counts[f"{case}:   the model's type right{sure}"] += named == labels[i]
                counts[f"{case}:   the rules' type right{sure}"] += decided[i] == labels[i]
    print(f"\nrules against model, train split, {repeats}x 5-fold cross-validation of the model")
    for case in ("rules fell back", "rules decided"):
        print(f"  {counts[case]:>5}  {case}")
        for sure in ("", ", model ≥ threshold"):
            for what in (
                "model named another type",
                "  the model's type right",
                "  the rules' type right",
            ):
                print(f"  {counts[f'{case}: {what}{sure}']:>5}    {what}{sure}")


def fit_calibration(train: Sequence[Letter], taxonomy: Taxonomy, threshold: float) -> None:
    """Print the calibrated ``scoring`` block for schemas/taxonomy.yaml and the fallback counts."""
    block = calibration_block(train, taxonomy)
    print("\n# schemas/taxonomy.yaml")
    print(
        yaml.safe_dump({"scoring": block}, sort_keys=False, allow_unicode=True, width=200), end=""
    )
    fallback_choice(train, taxonomy, threshold)


RELIABILITY_BINS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0)


def reliability(confidence: Sequence[float], right: Sequence[bool]) -> float:
    """Print mean confidence against accuracy per confidence bin; return the ECE."""
    values, hits = np.asarray(confidence), np.asarray(right, dtype=float)
    ece = 0.0
    print(f"  {'confidence':<12} {'letters':>7} {'mean conf.':>10} {'accuracy':>9}")
    for low, high in itertools.pairwise(RELIABILITY_BINS):
        inside = (values >= low) & ((values < high) if high < 1.0 else (values <= high))
        if not inside.any():
            continue
        mean, accuracy = float(values[inside].mean()), float(hits[inside].mean())
        ece += inside.sum() / len(values) * abs(mean - accuracy)
        print(f"  {low:.2f}-{high:.2f}    {int(inside.sum()):>7} {mean:>10.3f} {accuracy:>9.3f}")
    print(
        f"  all          {len(values):>7} {float(values.mean()):>10.3f} {float(hits.mean()):>9.3f}"
        f"   ECE {ece:.3f}"
    )
    return ece


# --- reporting -------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    """Return PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def summary_row(outcome: Outcome, truth: Sequence[str]) -> dict[str, float]:
    """Return accuracy, macro-F1, the automatic share and the precision of automatic decisions."""
    right = [p == t for p, t in zip(outcome.predicted, truth, strict=True)]
    auto = [r for r, a in zip(right, outcome.automatic, strict=True) if a]
    return {
        "accuracy": sum(right) / len(right),
        "macro_f1": float(f1_score(truth, outcome.predicted, average="macro", zero_division=0)),
        "automatic": len(auto) / len(right),
        "precision_auto": sum(auto) / len(auto) if auto else 0.0,
    }


def print_confusion(outcome: Outcome, truth: Sequence[str]) -> None:
    """Print the confusion matrix: rows are the true types, columns the decided ones."""
    labels = sorted(set(truth) | set(outcome.predicted))
    matrix = confusion_matrix(truth, outcome.predicted, labels=labels)
    short = [label[:5] for label in labels]
    print(f"\n{outcome.name}: confusion (rows true, columns decided)")
    print(" " * 12 + " ".join(f"{name:>5}" for name in short))
    for label, row in zip(labels, matrix, strict=True):
        print(f"{label:>11} " + " ".join(f"{int(n):>5}" if n else "    ." for n in row))


def reason_kind(reason: str) -> str:
    """Return the kind of a review reason, without its numbers."""
    if "required field missing" in reason:
        return reason  # names the type and the fields
    if "rules found no type" in reason:
        return "the rules found no type, the model named one"
    return "disagreement" if "disagree" in reason else "confidence below threshold"


def print_review_reasons(outcome: Outcome) -> None:
    """Print why letters went to review, by kind (a letter may have several reasons)."""
    if outcome.review_reasons is None:
        return
    kinds = Counter(reason_kind(reason) for reasons in outcome.review_reasons for reason in reasons)
    sent = sum(1 for reasons in outcome.review_reasons if reasons)
    print(f"\n{outcome.name}: {sent} letter(s) to review")
    for kind, count in kinds.most_common():
        print(f"  {count:>4}  {kind}")


def same_field(name: str, truth: object, found: object) -> bool:
    """Return whether an extracted field equals the ground truth exactly (spacing aside)."""
    if found is None:
        return False
    if name == "amount_total":
        return abs(float(str(truth)) - float(str(found))) < 0.005
    if name == "date":
        return str(found) == str(truth)
    return " ".join(str(found).split()) == " ".join(str(truth).split())


def field_rates(letters: Sequence[Letter]) -> dict[str, tuple[int, int]]:
    """Return per field (exact matches, letters whose truth has the field)."""
    rates = dict.fromkeys(FIELDS, (0, 0))
    for letter in letters:
        fields: Fields = extract_fields(letter.text)
        for name in FIELDS:
            truth = getattr(letter.truth, name)
            if truth is None:
                continue
            hits, total = rates[name]
            rates[name] = (hits + same_field(name, truth, getattr(fields, name)), total + 1)
    return rates


def report(outcomes: Sequence[Outcome], test: Sequence[Letter], threshold: float) -> bool:
    """Print every table and the targets; return whether all targets pass."""
    truth = [letter.doc_type for letter in test]
    rows = {outcome.name: summary_row(outcome, truth) for outcome in outcomes}
    print(f"\n{len(test)} test letters, threshold {threshold:.2f}")
    print(f"{'classifier':<22} {'accuracy':>9} {'macro-F1':>9} {'automatic':>10} {'prec.auto':>10}")
    for name, row in rows.items():
        print(
            f"{name:<22} {row['accuracy']:>9.3f} {row['macro_f1']:>9.3f} "
            f"{row['automatic']:>10.1%} {row['precision_auto']:>10.3f}"
        )
    for outcome in outcomes:
        if outcome.confidence is not None:
            print(f"\n{outcome.name}: reliability of the final confidence (test split)")
            right = [p == t for p, t in zip(outcome.predicted, truth, strict=True)]
            reliability(outcome.confidence, right)
    for outcome in outcomes:
        print_review_reasons(outcome)
    for outcome in outcomes:
        print_confusion(outcome, truth)
    rates = field_rates(test)
    print("\nfield extraction (exact match, over letters whose truth has the field)")
    for name, (hits, total) in rates.items():
        rate = hits / total if total else 0.0
        print(f"  {name:<16} {rate:>6.3f}  ({hits}/{total})")
    rules, model = rows["rules only"], rows["rules + model"]
    targets = [
        ("rules + model accuracy ≥ 0.95", model["accuracy"] >= 0.95),
        ("rules-only accuracy ≥ 0.90", rules["accuracy"] >= 0.90),
        (
            "rules + model: precision of automatic decisions ≥ 0.98 with ≥ 85 % automatic",
            model["precision_auto"] >= 0.98 and model["automatic"] >= 0.85,
        ),
    ]
    for name in sorted(FIELD_TARGETS):
        hits, total = rates[name]
        targets.append((f"{name} exact match ≥ 0.95", total > 0 and hits / total >= 0.95))
    print("\ntargets")
    for name, ok in targets:
        print(f"  {verdict(ok)}  {name}")
    return all(ok for _, ok in targets)


# --- the run ---------------------------------------------------------------------------------


def timed(what: str, action: Callable[[], object]) -> float:
    """Run ``action`` and print how long it took; return the seconds."""
    started = time.monotonic()
    action()
    seconds = time.monotonic() - started
    print(f"{what}: {seconds:.1f} s")
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 0 when every target passes."""
    parser = argparse.ArgumentParser(prog="bench/classify.py", description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=300, help="training letters (default 300)")
    parser.add_argument("--test", type=int, default=300, help="test letters (default 300)")
    parser.add_argument("--train-seed", type=int, default=1)
    parser.add_argument("--test-seed", type=int, default=2)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument(
        "--fit-calibration",
        action="store_true",
        help="fit the rules' calibration on the train split, print it, and exit",
    )
    args = parser.parse_args(argv)
    os.environ["OMP_THREAD_LIMIT"] = "1"  # tesseract's threads make it slower on 2 cores
    warnings.filterwarnings("ignore", module="sklearn")  # the MLP's convergence notes
    print(f"reading the corpus (OCR, {THREADS} threads; cached in {CACHE_DIR})")
    train = corpus("train", args.train_seed, args.train)
    taxonomy = load_taxonomy()
    if args.fit_calibration:
        fit_calibration(train, taxonomy, args.threshold)
        return 0
    test = corpus("test", args.test_seed, args.test)
    texts = [letter.text for letter in test]
    rules = [classify_text(text, taxonomy) for text in texts]
    outcomes = [Outcome("rules only", *decide_all(test, rules, taxonomy, args.threshold, None))]
    for name, examples in (
        ("rules + model", train),
        (f"rules + model ({FEW}/type)", few_per_type(train, FEW)),
    ):
        started = time.monotonic()
        model = fit_model([(letter.text, letter.doc_type) for letter in examples], measured=False)
        print(f"trained {name} on {len(examples)} letters in {time.monotonic() - started:.1f} s")
        probabilities = model.predict_many(texts)
        decided = decide_all(test, rules, taxonomy, args.threshold, probabilities)
        outcomes.append(Outcome(name, *decided))
    baseline = mlp_baseline(train)
    probabilities_mlp = baseline.predict_proba([prepare(text) for text in texts])
    classes = [str(label) for label in baseline.classes_]
    outcomes.append(
        Outcome(
            "MLP baseline",
            [classes[int(row.argmax())] for row in probabilities_mlp],
            [float(row.max()) >= args.threshold for row in probabilities_mlp],
        )
    )
    return 0 if report(outcomes, test, args.threshold) else 1


if __name__ == "__main__":
    raise SystemExit(main())
