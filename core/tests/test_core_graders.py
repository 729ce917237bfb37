import asyncio

import pytest
from emergebench.builtin.graders import ChoiceArgs, ChoiceGrader, ExactMatch, RegexArgs, RegexGrader, RubricGrader
from emergebench.builtin.scripted import make_scripted
from emergebench.context import RunServices, SolveContext
from emergebench.records import Sample


def make_ctx(judge_reply: str | None = None) -> SolveContext:
    services = RunServices(cache=None, read_cache=False, call_slots=asyncio.Semaphore(4))
    judge = make_scripted("constant", {"reply": judge_reply}) if judge_reply is not None else None
    return SolveContext(
        sample=Sample(id="s", input="What is 2+2?"),
        epoch=0,
        run_seed=0,
        services=services,
        subject=make_scripted("echo", {}),
        grader_model=judge,
        grader=None,
        override=None,
    )


@pytest.mark.parametrize(
    "answer,target,value",
    [("Paris", "paris", 1.0), (" Paris. ", "Paris", 1.0), ("London", "Paris", 0.0), ("4", ["four", "4"], 1.0)],
)
async def test_exact(answer, target, value):
    assert (await ExactMatch().grade(answer, target, make_ctx())).value == value


@pytest.mark.parametrize(
    "answer,extracted",
    [
        ("B", "B"),
        ("(c) because", "C"),
        ("The answer is: D", "D"),
        ("**A**", "A"),
        ("I think it's B. A is wrong", "B"),
        ("Answer: b", "B"),
        ("none of these", None),
    ],
)
async def test_choice_extraction(answer, extracted):
    grade = await ChoiceGrader().grade(answer, "B", make_ctx())
    assert grade.extracted == extracted
    assert grade.parse_failed is (extracted is None)
    assert grade.value == float(extracted == "B")


async def test_choice_yes_no_labels():
    grader = ChoiceGrader(ChoiceArgs(choices=["yes", "no"]))
    assert (await grader.grade("Yes.", "yes", make_ctx())).value == 1.0
    assert (await grader.grade("The answer is no", "yes", make_ctx())).extracted == "no"


async def test_regex():
    grader = RegexGrader(RegexArgs(pattern=r"ANSWER:\s*(\d+)"))
    assert (await grader.grade("work... ANSWER: 42", "42", make_ctx())).value == 1.0
    assert (await grader.grade("no answer", "42", make_ctx())).parse_failed


@pytest.mark.parametrize(
    "reply,value,failed",
    [("Looks right.\nGRADE: C", 1.0, False), ("GRADE: P", 0.5, False), ("grade: i", 0.0, False), ("dunno", 0.0, True)],
)
async def test_rubric_uses_judge_model_and_records_call(reply, value, failed):
    ctx = make_ctx(judge_reply=reply)
    grade = await RubricGrader().grade("4", "the answer is 4", ctx)
    assert (grade.value, grade.parse_failed) == (value, failed)
    assert [c.role for c in ctx.calls] == ["grader"]


async def test_rubric_without_judge_says_what_to_do():
    from emergebench.errors import UsageError

    with pytest.raises(UsageError, match="--grader-model"):
        await RubricGrader().grade("4", "4", make_ctx())
