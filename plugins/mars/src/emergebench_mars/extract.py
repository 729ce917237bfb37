"""Turn a model's reply into a label (1 plausible / 0 metaphysical) or an extraction failure.

The reference splits the lower-cased reply on whitespace and looks for the bare tokens "no", "yes",
"wrong", "right", "incorrect", "correct" in that order, so "Yes." or "**No**" never match and fall
to a coin flip (spec sections 4c, 7.4). ``extract_reference`` reproduces those rules exactly (minus
the coin flip, which the task applies when asked to).

``extract_robust`` reads what a reply commits to, and refuses to guess. The rule is: a reply that
commits to neither answer, or to both, is an extraction failure. It works in steps:

1. Text the model copied from the prompt (the event, the inference, the instructions, "yes or no")
   is removed first, so a word echoed from the question is never read as the answer.
2. A JSON object with an answer field is the answer. Its value must be a verdict and nothing else:
   ``{"answer": "yes or no"}`` or an instruction copied into the field is a failure.
3. The rest is cut into sentences. A sentence that hedges ("I cannot determine whether ...", "no
   idea", "yes and no", "it depends") gives no verdict and marks the reply as hedged.
4. Each sentence may give a verdict, in three strengths: an explicit answer ("the answer is no",
   "Final answer: yes"); a bare verdict that opens or closes it ("No, because ...", "So, yes.",
   "Nope", "Of course not", "I don't think so"); a statement about the event ("this is not
   plausible", "it can't happen"). Idioms that start with "no" ("no doubt", "no wonder") are not
   verdicts.
5. The strongest kind present decides, and all its verdicts must agree; a disagreement is a failure.
   A hedged reply needs an explicit or bare verdict outside its hedging sentences.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

REFERENCE_ORDER = (("no", 0), ("yes", 1), ("wrong", 0), ("right", 1), ("incorrect", 0), ("correct", 1))

# Whole-answer phrases: a JSON field, an explicit "Answer: ..." value, or a sentence on its own.
VERDICT_PHRASES: dict[str, int] = {
    **dict.fromkeys(
        "yes y yeah yea yep yup ya yass aye sure true correct right plausible possible realistic reality "
        "affirmative indeed absolutely definitely certainly totally likely reasonable".split(),
        1,
    ),
    **dict.fromkeys(
        "no n nope nah nay naw false incorrect wrong implausible impossible unrealistic metaphysical "
        "negative never unlikely unreasonable hardly not".split(),
        0,
    ),
    **dict.fromkeys(
        [
            "of course",
            "for sure",
            "uh huh",
            "i think so",
            "i believe so",
            "i guess so",
            "i would say so",
            "i'd say so",
            "it is",
            "it's",
            "it can",
            "it could",
            "it does",
            "it would",
            "it is plausible",
            "it's plausible",
            "it is possible",
            "it's possible",
            "very plausible",
            "highly plausible",
            "quite plausible",
            "very likely",
            "highly likely",
            "most likely",
            "absolutely yes",
            "definitely yes",
            "yes indeed",
            "sure thing",
            "why not",
            "that's right",
            "that is right",
            "that's correct",
            "that is correct",
            "that's true",
            "that is true",
        ],
        1,
    ),
    **dict.fromkeys(
        [
            "not plausible",
            "not possible",
            "not realistic",
            "not likely",
            "not really",
            "not at all",
            "no way",
            "of course not",
            "definitely not",
            "absolutely not",
            "certainly not",
            "probably not",
            "surely not",
            "not true",
            "not correct",
            "not right",
            "i don't think so",
            "i do not think so",
            "i doubt it",
            "i doubt that",
            "i doubt so",
            "i would say not",
            "i'd say not",
            "it isn't",
            "it is not",
            "it's not",
            "it can't",
            "it cannot",
            "it can not",
            "it couldn't",
            "it could not",
            "it doesn't",
            "it does not",
            "it wouldn't",
            "it would not",
            "very unlikely",
            "highly unlikely",
            "highly implausible",
            "very implausible",
            "completely implausible",
            "totally implausible",
            "not in reality",
            "nope not",
            "no no",
            "nah no",
            "uh uh",
            "that's wrong",
            "that is wrong",
            "that's false",
            "that is false",
            "that's incorrect",
            "that is incorrect",
            "not plausible at all",
        ],
        0,
    ),
}
# Words that open a sentence and give its verdict when followed by a break or by these words.
OPENERS: dict[str, int] = {
    **dict.fromkeys("yes yeah yea yep yup aye sure absolutely definitely certainly indeed true correct".split(), 1),
    **dict.fromkeys("no nope nah nay false incorrect".split(), 0),
    "plausible": 1,
    "implausible": 0,
    "impossible": 0,
    "unrealistic": 0,
    "unlikely": 0,
}
# After an opener, these words continue a committed sentence ("No it cannot", "Yes this can happen").
CONTINUERS = set(
    "it this that because since as the a an i in such there its it's that's definitely absolutely certainly "
    "not never indeed of way".split()
)
# "no" + one of these is an idiom or a determiner, never a verdict ("no doubt", "no butterfly").
NO_IDIOMS = set("doubt wonder problem question matter idea comment clue one longer more less worries".split())
# Assistant filler ("Sure! Let me think..."): a verdict only when it is the whole reply, or with "not".
FILLERS = {"sure", "certainly", "absolutely", "definitely", "indeed", "of course", "sure thing", "totally"}
# Softeners that may stand between the start of a sentence and its verdict ("I'd say no", "So, yes").
LEAD_INS = re.compile(
    r"^(?:(?:well|so|then|thus|hence|therefore|overall|ok|okay|hmm+|honestly|in short|in conclusion|"
    r"to conclude|in summary|summary|conclusion|final(?:ly)?|i think|i believe|i'd say|i would say|"
    r"i guess|i'd guess|my guess is|probably|likely|also|and|but|wait|actually|oh)\b[\s,:.-]*)+"
)
# Sentences that commit to nothing: the reply is then "hedged".
HEDGES = re.compile(
    r"\b(?:"
    r"(?:can ?not|can't|cant|couldn't|could not|unable to|not able to|am not able to|impossible to|"
    r"not possible to|hard to|difficult to|no way to|won't|will not|don't|do not|cannot really)\s+"
    r"(?:\w+\s+){0,2}?(?:determine|say|tell|know|decide|judge|answer|assess|evaluate|conclude|be sure|"
    r"be certain|verify|confirm|predict|figure)"
    r"|not (?:sure|certain)|unsure|uncertain|unclear|undecided|no idea|no comment|no clue|no opinion|"
    r"don't know|do not know|dunno|not enough (?:information|info|context)|insufficient information|"
    r"it depends|depends on|yes and no|both yes and no|neither yes nor no|neither|maybe|perhaps|not clear|"
    r"50/50|fifty.fifty|either way|could go either way|as an ai|i'm sorry|i am sorry|sorry,|i apologi[sz]e|"
    r"i can't help|i cannot help|i can't answer|i cannot answer|cannot be determined|can't be determined|"
    r"can not be determined|not be determined|is ambiguous|ambiguous"
    r")\b"
)
# Explicit answers: "the answer is no", "Final answer: **yes**", "Verdict - implausible".
EXPLICIT = re.compile(
    r"\b(?:final\s+answer|correct\s+answer|the\s+answer|my\s+answer|your\s+answer|answer|verdict|label|"
    r"prediction|conclusion|judg(?:e)?ment|response|output)"
    r"\s*(?:is|would\s+be|will\s+be|must\s+be|should\s+be|:|=|-+|->|=>)\s*(?:that\s+)?(?:it\s+is\s+)?"
    r"(?P<value>[a-z' ]{1,40}?)\s*(?:$|[.,;!?)\]]|\bbecause\b|\bsince\b|\bas\b)"
)
# Statements about the event: "this is not plausible", "it can't happen", "the event is impossible".
SUBJECT = (
    r"\b(?:it|this|that|which|such\s+(?:a|an)\s+\w+|the\s+(?:event|assertion|inference|statement|scenario|"
    r"situation|change|claim|sentence|premise|conclusion|transition|idea|outcome))"
)
PREDICATE = re.compile(
    SUBJECT + r"(?:\s+|(?='))(?P<verb>is|'s|seems|sounds|appears|looks|would\s+be|is\s+quite|is\s+very|is\s+highly|"
    r"seems\s+(?:to\s+be\s+)?|appears\s+(?:to\s+be\s+)?|isn't|is\s+not|seems\s+not|does\s+not\s+seem|"
    r"doesn't\s+seem|would\s+not\s+be|wouldn't\s+be)\s*(?P<adv>(?:very|highly|quite|completely|totally|"
    r"entirely|rather|fairly|perfectly|clearly|definitely|certainly|extremely|somewhat|not|never)\s+)*"
    r"(?:to\s+be\s+)?(?P<word>plausible|implausible|possible|impossible|realistic|unrealistic|likely|unlikely|"
    r"reasonable|unreasonable|true|false|correct|incorrect|metaphysical|absurd|nonsensical|credible|"
    r"believable|unbelievable|feasible|infeasible)\b"
    r"|\bmakes?\s+(?:the\s+\w+|it|this|that)\s+(?P<madv>(?:very|highly|quite|completely|totally|entirely|more|"
    r"less|not)\s+)*(?P<mword>plausible|implausible|possible|impossible|realistic|unrealistic|likely|unlikely)\b"
    r"|" + SUBJECT + r"\s+(?P<modal>can|could|may|might|would|will|does|do|can't|cannot|can\s+not|couldn't|"
    r"could\s+not|won't|will\s+not|wouldn't|would\s+not|does\s+not|doesn't|never|would\s+never|"
    r"could\s+never|can\s+never)\s+(?:\w+ly\s+)?(?P<event>happen|occur|exist|be\s+true|take\s+place)\b"
)
WORD_VALUE = {
    **dict.fromkeys(
        "plausible possible realistic likely reasonable true correct credible believable feasible".split(), 1
    ),
    **dict.fromkeys(
        "implausible impossible unrealistic unlikely unreasonable false incorrect metaphysical absurd nonsensical "
        "unbelievable infeasible".split(),
        0,
    ),
}
CONDITIONALS = {"if", "whether", "unless", "when", "determine", "decide", "asks", "ask", "asked"}
NEGATIONS = {"not", "never", "isn't", "doesn't", "wouldn't", "can't", "cannot", "couldn't", "won't"}
ECHO_PATTERNS = re.compile(
    r"\b(?:answer\s+)?(?:with\s+)?(?:either\s+)?(?:\"?yes\"?\s*(?:,\s*)?(?:or|/|\||and/or)\s*\"?no\"?|"
    r"\"?no\"?\s*(?:or|/|\|)\s*\"?yes\"?)(?:\s+only)?\b|<\s*answer\s*>|\[\s*answer\s+here\s*\]"
)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_MARKDOWN = re.compile(r"[*_`#>~|]+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-", "\u2013": "-"})
_JSON_KEYS = ("answer", "label", "prediction", "verdict", "plausible", "result", "output", "response", "final_answer")
_JSON_FIELD = re.compile(r'"(' + "|".join(_JSON_KEYS) + r')"\s*:\s*(?P<value>"[^"{}]*"?|true|false|null|[01]\b)', re.I)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+|\s+-+\s+|\s*\n\s*|,\s+(?=but\b)")


@dataclass(frozen=True)
class Extraction:
    label: int | None
    method: str  # json | explicit | bare | statement | reference-<token> | failed-<why>

    @property
    def failed(self) -> bool:
        return self.label is None


def normalise(text: str) -> str:
    """Lower-case, straight quotes, no markdown, single spaces (line breaks kept as sentence breaks)."""
    text = _MARKDOWN.sub(" ", text.translate(_QUOTES).lower())
    return "\n".join(re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n"))


def phrase_label(text: str) -> int | None:
    """The verdict of a short phrase that is nothing but a verdict ("No.", "not plausible", "Yep!")."""
    cleaned = re.sub(r"\s+", " ", re.sub(r"[^a-z' /]+", " ", normalise(text))).strip()
    if cleaned in VERDICT_PHRASES:  # before lead-ins go: "i think so", "probably not"
        return VERDICT_PHRASES[cleaned]
    cleaned = LEAD_INS.sub("", cleaned).strip()
    if cleaned in VERDICT_PHRASES:
        return VERDICT_PHRASES[cleaned]
    words = cleaned.split()
    # "yes yes", "no, no, no": a repeated verdict word is still one verdict
    if words and len(set(words)) == 1 and words[0] in VERDICT_PHRASES:
        return VERDICT_PHRASES[words[0]]
    return None


def remove_echoes(text: str, echoes: Iterable[str]) -> str:
    """Drop copies of the prompt's own text (the item, the instructions) and "yes or no" echoes."""
    for echo in sorted({normalise(e) for e in echoes if e and e.strip()}, key=len, reverse=True):
        pattern = r"\s+".join(re.escape(w) for w in echo.rstrip(".").split())
        if pattern:
            text = re.sub(pattern, " ", text)
    return ECHO_PATTERNS.sub(" ", text)


def _json_verdicts(text: str, echoes: Iterable[str]) -> list[int | None] | None:
    """Verdicts of the JSON answer fields in ``text`` (None when it has none)."""
    values: list[int | None] = []
    for match in re.finditer(r"\{[^{}]*\}", text, re.DOTALL):
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            keys = [k for k in data if str(k).lower() in _JSON_KEYS]
            values += [_json_value(data[k], echoes) for k in keys[:1]]
    if not values:  # a JSON object cut off by max_tokens: {"answer": "yes
        values = [_json_value(_loose_json(m.group("value")), echoes) for m in _JSON_FIELD.finditer(text)][:1]
    return values or None


def _loose_json(raw: str) -> object:
    raw = raw.strip()
    if raw.startswith('"'):
        return raw.strip('"')
    return {"true": True, "false": False, "null": None, "1": 1, "0": 0}.get(raw, raw)


def _json_value(value: object, echoes: Iterable[str]) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str):
        if ECHO_PATTERNS.search(normalise(value)):
            return None  # {"answer": "yes or no"}: the instruction, not an answer
        return phrase_label(remove_echoes(normalise(value), echoes))
    return None


def _opener(sentence: str) -> int | None:
    """A sentence that opens with a verdict: "No, a butterfly ...", "Yes it can", "Of course not, ..."."""
    body = LEAD_INS.sub("", sentence).strip()
    head = re.match(r"([a-z' ]+?)\s*[,:;!.)-]", body)
    if head and head.group(1) not in FILLERS and phrase_label(head.group(1)) is not None:
        return phrase_label(head.group(1))
    match = re.match(r"(?P<word>[a-z']+)(?P<rest>.*)", body, re.DOTALL)
    if not match or match.group("word") not in OPENERS or match.group("word") in FILLERS:
        return None
    word, rest = match.group("word"), match.group("rest")
    following = re.match(r"\s*([a-z']+)", rest)
    if word == "no" and following and following.group(1) in NO_IDIOMS:
        return None
    if rest.strip() == "" or re.match(r"\s*[,.!:;)\-]", rest) or (following and following.group(1) in CONTINUERS):
        return OPENERS[word]
    return None


def _statement(sentence: str) -> list[int]:
    found = []
    for match in PREDICATE.finditer(sentence):
        before = sentence[: match.start()].split()
        if before and before[-1] in CONDITIONALS:
            continue  # "determine if it's plausible": a condition, not a claim
        if match.group("mword"):
            value = WORD_VALUE[match.group("mword")]
            if "not" in (match.group("madv") or "").split():
                value = 1 - value
        elif match.group("word"):
            value = WORD_VALUE[match.group("word")]
            words = f"{match.group('verb')} {match.group('adv') or ''}".split()
            if sum(w in NEGATIONS or w.endswith("n't") for w in words) % 2:
                value = 1 - value
        else:
            modal = match.group("modal")
            value = 0 if ("not" in modal or "n't" in modal or "never" in modal) else 1
        found.append(value)
    return found


def extract_robust(reply: str | None, echoes: Iterable[str] = ()) -> Extraction:
    """The corrected extractor: deterministic, and never a guess (see the module docstring)."""
    if reply is None or not reply.strip():
        return Extraction(None, "failed-empty")
    echoes = list(echoes)
    text = normalise(_THINK.sub(" ", reply))
    json_found = _json_verdicts(text, echoes)
    if json_found is not None:
        labels = set(json_found)
        if None in labels or len(labels) != 1:
            return Extraction(None, "failed-json")
        return Extraction(labels.pop(), "json")
    text = remove_echoes(text, echoes)
    explicit: list[int | None] = []
    bare: list[int] = []
    statements: list[int] = []
    fillers: list[int] = []
    hedged = False
    sentences = [s.strip(" ,:-\"'()[]") for s in _SENTENCE_BREAK.split(text)]
    sentences = [s for s in sentences if re.search(r"[a-z]", s)]
    for sentence in sentences:
        if HEDGES.search(sentence):
            hedged = True
            continue
        explicit += [phrase_label(m.group("value")) for m in EXPLICIT.finditer(sentence)]
        if sentence.endswith("?") or re.match(r"(?:if|unless|when|whether)\b", sentence):
            continue  # a question ("..., right?") or a condition ("if not, no") commits to nothing
        whole = phrase_label(sentence)
        if whole is not None:
            (fillers if _is_filler(sentence) else bare).append(whole)
            continue
        opener = _opener(sentence)
        closer = re.search(r"(?:[,:]\s*|\b(?:so|thus|hence|therefore|then)\s+)([a-z' ]{1,24})[.!]*$", sentence)
        closing = phrase_label(closer.group(1)) if closer and not _is_filler(closer.group(1)) else None
        if opener is not None or closing is not None:
            bare += [x for x in (opener, closing) if x is not None]  # "No, wait, yes." holds both
            continue
        statements += _statement(sentence)
    if len(sentences) == 1 and fillers:
        bare += fillers
    explicit_labels = [x for x in explicit if x is not None]
    if bare and statements and set(bare) != set(statements):
        bare += statements  # a bare verdict that its own reasoning contradicts decides nothing
    for method, found in (("explicit", explicit_labels), ("bare", bare), ("statement", statements)):
        if not found:
            continue
        if len(set(found)) != 1:
            return Extraction(None, f"failed-conflict-{method}")
        if hedged and method == "statement":
            return Extraction(None, "failed-hedged")
        return Extraction(found[0], method)
    return Extraction(None, "failed-hedged" if hedged else "failed-no-answer")


def _is_filler(phrase: str) -> bool:
    return re.sub(r"[^a-z ]+", " ", phrase).strip() in FILLERS


def extract_reference(reply: str | None) -> Extraction:
    """The reference's rules: whitespace tokens, first of no/yes/wrong/right/incorrect/correct."""
    tokens = (reply or "").lower().split()
    for token, label in REFERENCE_ORDER:
        if token in tokens:
            return Extraction(label, f"reference-{token}")
    return Extraction(None, "failed-reference")


def extract(reply: str | None, mode: str = "robust", echoes: Iterable[str] = ()) -> Extraction:
    """``echoes``: the prompt's own texts (item, instructions), removed from the reply before reading it."""
    if mode == "robust":
        return extract_robust(reply, echoes)
    if mode == "reference":
        return extract_reference(reply)
    raise ValueError(f"unknown extraction mode {mode!r}: use 'robust' or 'reference'")
