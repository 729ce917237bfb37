"""Item 14.10: the restored strategy-prompt instructions, the no-system-prompt flag, prompts read from a
user's clone of the reference (-T reference_repo), and constrained (JSON-schema) replies."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from emergebench import GenerateConfig, Message, ModelInfo, ModelOutput, UsageError
from emergebench.model import Model
from emergebench_donor_game.agents import DonorAgentModel
from emergebench_donor_game.constrained import donation_schema, parse_json_donation, parse_json_strategy
from emergebench_donor_game.engine import Action, EncounterView
from emergebench_donor_game.local import simulate_with_model
from emergebench_donor_game.prompts import first_strategy_prompt, inherited_strategy_prompt
from emergebench_donor_game.reference_prompts import NOTEBOOK, ReferencePrompts
from emergebench_donor_game.settings import DonorGameArgs, GameRules


class Recorder(DonorAgentModel):
    """A scripted agent that keeps every request it was sent."""

    def __init__(self, policy: str = "constant") -> None:
        super().__init__(policy, {})
        self.requests: list[tuple[list[Message], GenerateConfig]] = []

    async def generate(self, messages, config):  # type: ignore[no-untyped-def]
        self.requests.append((list(messages), config))
        return await super().generate(messages, config)


@pytest.mark.parametrize("generation", [1, 2])
def test_both_strategy_prompts_warn_about_the_first_round(generation: int) -> None:
    # the reference's strategy prompts (gen 1 and gen >= 2 alike) warn that round 1 carries no information
    # and ask to think about how much to donate then (spec 6.2; notebook cell 8)
    rules = GameRules()
    prompt = (
        first_strategy_prompt("1_1", rules)
        if generation == 1
        else inherited_strategy_prompt("2_1", rules, ["My strategy will be to give half."], None)
    )
    assert "In the first round you will have no information about the recipient" in prompt
    assert "think carefully about how much to donate in that case" in prompt
    assert prompt.index("first round") < prompt.index("briefly think step by step")


@pytest.mark.parametrize(("option", "roles"), [("send", ["system", "user"]), ("omit", ["user"])])
async def test_system_prompt_can_be_omitted(option: str, roles: list[str]) -> None:
    model = Recorder()
    await simulate_with_model(model, DonorGameArgs(population=2, generations=1, system_prompt=option))
    assert model.requests and all([m.role for m in msgs] == roles for msgs, _ in model.requests)
    if option == "send":
        assert all(msgs[0].content.startswith("You are a game-playing agent.") for msgs, _ in model.requests)


# A notebook shaped like the reference's (same variable and function names, same constructs), with
# wording written for this test: nothing here is the reference's text.
SETUP_CELL = '''
cooperationGain = 2
punishmentLoss = 2
initial_endowment = 10
punishment_mechanism = "none"
if punishment_mechanism == "partner_choice":
  punishment_text_in_system_prompt = "REFUSE ALLOWED."
elif punishment_mechanism == "costly_punishment":
  punishment_text_in_system_prompt = f"PUNISH {punishmentLoss}x ALLOWED."
else:
  punishment_text_in_system_prompt = ""
system_prompt = f"""SYSTEM: start with {initial_endowment}; gift times {cooperationGain}.
    {punishment_text_in_system_prompt} END"""
'''
STRATEGY_CELL = """
def generate_strategy(agent_name: str, generationNumber: int, inherited_strategies: str) -> str:
    if punishment_mechanism == "costly_punishment":
      punishment_text = f"You can punish at {punishmentLoss}x."
    else:
      punishment_text = ""
    if generationNumber == 1:
      prompt = (
        f"NAME {agent_name}. "
        "FIRST-GENERATION TEXT."
        f"{punishment_text}"
        "ROUND-ONE WARNING."
      )
    else:
      prompt = (
        f"NAME {agent_name}. "
        "LATER-GENERATION TEXT."
        f"{inherited_strategies}"
        f"{punishment_text}"
        "ROUND-ONE WARNING."
      )
    strategy_output = promptLLM(prompt)
    return parse_strategy_output(strategy_output)
"""
DONATION_CELL = """
def donorPrompt(donor, generation: int, round: int, recipient) -> str:
    strategy_text = f"STRATEGY: {donor.strategy}" if donor.strategy else ""
    if punishment_mechanism == "costly_punishment":
        punishment_text = "SAY Donate, x OR Punish, x."
    else:
        punishment_text = f"SAY A NUMBER FROM 0 TO {donor.resources}."
    recipient_behavior = ""
    if donor.traces:
        last_trace = recipient.traces[-1]
        recipient_behavior = get_last_three_reversed(last_trace)
    return (
        f"NAME {donor.name}. "
        f"{strategy_text}"
        f"GEN {generation} ROUND {round}. "
        f"PARTNER {recipient.name} HAS {recipient.resources}."
        f"{recipient_behavior}"
        f"YOU HAVE {donor.resources}. "
        f"{punishment_text}"
        "Justification: ... Answer: ..."
    )
"""


def write_notebook(folder: Path, cells: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    notebook = {
        "cells": [{"cell_type": "markdown", "source": ["# notes"]}]
        + [{"cell_type": "code", "source": cell.splitlines(keepends=True)} for cell in cells],
        "nbformat": 4,
    }
    path = folder / NOTEBOOK
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def test_reference_prompts_are_built_from_the_users_file(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "clone", ["!pip install openai", SETUP_CELL, STRATEGY_CELL, DONATION_CELL])
    prompts = ReferencePrompts.load(str(tmp_path / "clone"), GameRules(endowment=10, multiplier=3))
    assert prompts.system() == "SYSTEM: start with 10; gift times 3.\n     END"  # indent + "" + " END"
    assert prompts.first_strategy("1_4") == "NAME 1_4. FIRST-GENERATION TEXT.ROUND-ONE WARNING."
    later = prompts.inherited_strategy("2_1", 2, ["My strategy will be A.", "My strategy will be B."], None)
    assert (
        later
        == "NAME 2_1. LATER-GENERATION TEXT.['My strategy will be A.', 'My strategy will be B.']ROUND-ONE WARNING."
    )
    view = EncounterView(1, 1, 2, "1_1", "1_7", 20, 12.5, "In round 1, 1_7 donated 50.00% of their resources to 1_2.")
    assert prompts.donation(view, "My strategy will be kind.") == (
        "NAME 1_1. STRATEGY: My strategy will be kind.GEN 1 ROUND 2. PARTNER 1_7 HAS 12.5."
        "In round 1, 1_7 donated 50.00% of their resources to 1_2.YOU HAVE 20. SAY A NUMBER FROM 0 TO 20."
        "Justification: ... Answer: ..."
    )
    assert prompts.provenance() == {
        "prompts_source": "reference",
        "reference_files": {NOTEBOOK: hashlib.sha256(path.read_bytes()).hexdigest()},
    }


def test_reference_prompts_follow_the_punishment_setting(tmp_path: Path) -> None:
    write_notebook(tmp_path, [SETUP_CELL, STRATEGY_CELL, DONATION_CELL])
    prompts = ReferencePrompts.load(str(tmp_path), GameRules(punishment=True, punishment_loss=3))
    assert "PUNISH 3x ALLOWED." in prompts.system()
    assert "You can punish at 3x." in prompts.first_strategy("1_1")
    view = EncounterView(1, 1, 1, "1_1", "1_7", 10, 10, "1_7 did not have any previous interactions.")
    assert "SAY Donate, x OR Punish, x." in prompts.donation(view, "s")


async def test_a_whole_run_uses_the_reference_prompts_and_records_them(tmp_path: Path) -> None:
    write_notebook(tmp_path, [SETUP_CELL, STRATEGY_CELL, DONATION_CELL])

    class Echo(Model):
        def __init__(self) -> None:
            super().__init__("test/echo", ModelInfo(id="test/echo", provider="test", name="echo"))
            self.prompts: list[str] = []

        async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
            self.prompts.append(messages[-1].content)
            assert messages[0].content.startswith("SYSTEM:")
            return ModelOutput(text="Justification: fine. Answer: 1")

    model = Echo()
    args = DonorGameArgs(population=2, generations=1, reference_repo=str(tmp_path))
    result = await simulate_with_model(model, args)
    assert sum(p.startswith("NAME") and "FIRST-GENERATION" in p for p in model.prompts) == 2
    donations = [p for p in model.prompts if "PARTNER" in p]
    assert len(donations) == 4 and "1_2 did not have any previous interactions." in "".join(donations)
    assert len(result.encounters) == 4 and all(not e.failed and e.amount == 1 for e in result.encounters)


def test_a_bad_reference_path_or_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"-T reference_repo=.*no Donor_Game_with_Cultural_Evolution.ipynb there"):
        ReferencePrompts.load(str(tmp_path / "missing"), GameRules())
    write_notebook(tmp_path / "other", ["x = 1"])
    with pytest.raises(UsageError, match="defines no function generate_strategy, donorPrompt"):
        ReferencePrompts.load(str(tmp_path / "other"), GameRules())
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / NOTEBOOK).write_text("{not json", encoding="utf-8")
    with pytest.raises(UsageError, match="not a readable notebook"):
        ReferencePrompts.load(str(tmp_path / "broken"), GameRules())
    # the code is read, never run: a call in the prompt expression is refused, not executed
    hostile = DONATION_CELL.replace('f"NAME {donor.name}. "', '__import__("os").system("touch PWNED") + "x"')
    write_notebook(tmp_path / "hostile", [SETUP_CELL, STRATEGY_CELL, hostile])
    prompts = ReferencePrompts.load(str(tmp_path / "hostile"), GameRules())
    with pytest.raises(UsageError, match="does not evaluate"):
        prompts.donation(EncounterView(1, 1, 1, "a", "b", 10, 10, "t"), "s")
    assert not (Path.cwd() / "PWNED").exists()


@pytest.mark.parametrize(
    ("reply", "punishment", "expected"),
    [
        ('{"justification": "be kind", "answer": 5}', False, Action("donate", 5.0)),
        ('{"justification": "", "answer": 2.5}', False, Action("donate", 2.5)),
        ('{"justification": "x", "answer": -1}', False, None),
        ('{"justification": "x", "answer": "5"}', False, None),
        ('{"justification": "x"', False, None),
        ("Justification: x Answer: 5", False, None),
        ('{"justification": "x", "action": "Punish", "amount": 2}', True, Action("punish", 2.0)),
        ('{"justification": "x", "action": "Donate", "amount": 0}', True, Action("donate", 0.0)),
        ('{"justification": "x", "action": "Steal", "amount": 2}', True, None),
    ],
)
def test_constrained_donation_replies(reply: str, punishment: bool, expected: Action | None) -> None:
    parsed = parse_json_donation(reply, punishment=punishment)
    assert (parsed.action if parsed else None) == expected


def test_constrained_strategy_and_schema() -> None:
    assert parse_json_strategy('{"reasoning": "r", "strategy": "to give half"}') == (
        "My strategy will be to give half",
        "r",
    )
    assert parse_json_strategy('{"reasoning": "r", "strategy": ""}') is None
    schema = donation_schema(False, 12.5)["json_schema"]["schema"]
    assert list(schema["properties"]) == ["justification", "answer"]  # justification first, as the reference asks
    assert schema["properties"]["answer"] == {"type": "integer", "minimum": 0, "maximum": 12}
    costly = donation_schema(True, 0.5)["json_schema"]["schema"]["properties"]
    assert costly["amount"]["maximum"] == 0 and costly["action"] == {"type": "string", "enum": ["Donate", "Punish"]}


async def test_constrained_calls_send_the_schema_and_read_json() -> None:
    class JsonAgent(Recorder):
        supports_json_schema = True

        async def generate(self, messages, config):  # type: ignore[no-untyped-def]
            self.requests.append((list(messages), config))
            if config.response_format["json_schema"]["name"] == "donor_game_strategy":
                return ModelOutput(text='{"reasoning": "r", "strategy": "to give 2 units"}')
            return ModelOutput(text='{"justification": "kind", "answer": 2}')

    model = JsonAgent()
    result = await simulate_with_model(model, DonorGameArgs(population=2, generations=1, constrained="auto"))
    assert all(config.response_format is not None for _, config in model.requests)
    assert result.encounters and all(not e.failed and e.amount == 2 for e in result.encounters)
    plain = Recorder()
    await simulate_with_model(plain, DonorGameArgs(population=2, generations=1, constrained="auto"))
    assert all(config.response_format is None for _, config in plain.requests)  # not supported: not asked
