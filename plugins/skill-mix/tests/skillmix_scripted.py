"""Deterministic student and judge functions for scripted/function models in the skill-mix tests.

The student answers each turn with a fixed text chosen by the topic, so the expected points and metrics can be
worked out by hand. The judge fills in the rubric table (or "Point earned" lines) from rules on the answer text.
"""

from __future__ import annotations

import json
import re

from emergebench import GenerateConfig, Message

# Turn-2 answers per topic. Sentence counts: Sewing 1, Beekeeping 2, Gardening 3, Triathlons 1, Urbanism 1.
ANSWERS = {
    "Sewing": "The thread sits left of the needle, so most tailors would pull it right.",
    "Beekeeping": "Why do you still neglect your hive? Besides, the honey is liquid gold.",
    "Gardening": "Why do you drown your roses? Calm down. Breathe slowly.",
    "Triathlons": "I won because of my talent, but the red herring was the weather.",
    "Urbanism": "Most towns have parks, so this one surely does.",
}


def _topic(messages: list[Message]) -> str:
    first = messages[0].content if messages[0].role == "user" else messages[1].content
    match = re.search(r"in the context of (.+?) that illustrates", first)
    return match.group(1) if match else "?"


def student(messages: list[Message], config: GenerateConfig) -> str:
    """Turn 1: a draft; turn 2: the fixed answer for the topic, followed by an explanation."""
    topic = _topic(messages)
    if len([m for m in messages if m.role == "user"]) == 1:
        return f"Answer: A long first draft about {topic}. It has several sentences. Explanation: draft."
    return f"Sure!\nAnswer: {ANSWERS.get(topic, 'Nothing.')}\nExplanation: it shows the skills."


def _question(prompt: str) -> tuple[str, list[str]]:
    answer = re.search(r'The student\'s answer was: "(.*)"\n\nFor reference', prompt, re.S).group(1)
    items = re.search(r"criteria(?: are)?: (.*?)\. (?:The table|For each)", prompt, re.S).group(1).split(", ")
    return answer, items


def _points(answer: str, items: list[str]) -> list[str]:
    """Rules: a skill item earns 1, except 'metaphor' without the word 'gold' (0) and 'statistical syllogism'
    (always half a point, which the majority vote rounds to 0); topic and sense earn 1; the judge always claims
    the length point, which the task must recompute."""
    values = []
    for item in items:
        low = item.lower()
        if "metaphor" in low and "gold" not in answer:
            values.append("0")
        elif "statistical syllogism" in low:
            values.append("0.5")
        else:
            values.append("1")
    return values


def table_judge(messages: list[Message], config: GenerateConfig) -> str:
    answer, items = _question(messages[-1].content)
    values = _points(answer, items)
    rows = "\n".join(f"| {item} | {value} |" for item, value in zip(items, values, strict=True))
    total = sum(float(v) for v in values)
    return (
        "Here's the grading table:\n\n| Criteria | Points Earned |\n|---|---|\n"
        f"{rows}\n| Total Points Earned | {total:g} |\n\nExplanation: graded by rules."
    )


def points_judge(messages: list[Message], config: GenerateConfig) -> str:
    answer, items = _question(messages[-1].content)
    values = _points(answer, items)
    lines = "\n".join(
        f"{i + 1}. {item}: Point earned: {v}" for i, (item, v) in enumerate(zip(items, values, strict=True))
    )
    return f"{lines}\nGrade: {sum(float(v) for v in values):g}"


def json_student(messages: list[Message], config: GenerateConfig) -> str:
    """The same answers as ``student``, as the constrained JSON reply (the schema must have been sent)."""
    assert config.response_format is not None and config.response_format["json_schema"]["name"] == "skill_mix_text"
    topic = _topic(messages)
    if len([m for m in messages if m.role == "user"]) == 1:
        return json.dumps({"answer": f"A long first draft about {topic}. It has two.", "explanation": "draft"})
    return json.dumps({"answer": ANSWERS.get(topic, "Nothing."), "explanation": "it shows the skills"})


def json_judge(messages: list[Message], config: GenerateConfig) -> str:
    """The same rules as ``table_judge``, keyed by the schema's own rubric items (sent in a shuffled order)."""
    assert config.response_format is not None
    items = list(config.response_format["json_schema"]["schema"]["properties"])
    answer, asked = _question(messages[-1].content)
    assert items == asked
    values = dict(zip(items, (float(v) for v in _points(answer, items)), strict=True))
    return json.dumps({item: values[item] for item in reversed(items)})
