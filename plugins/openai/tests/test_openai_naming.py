import pytest
from emergebench_openai.naming import guess_family, guess_parameters


@pytest.mark.parametrize(
    ("name", "family", "parameters"),
    [
        ("llama-3.1-8b", "llama-3.1", 8_000_000_000),
        ("meta-llama/Llama-3.1-70B-Instruct", "llama-3.1", 70_000_000_000),
        ("Qwen2.5-0.5B-Instruct", "qwen2.5", 500_000_000),
        ("qwen2.5:7b", "qwen2.5", 7_000_000_000),
        ("SmolLM2-135M-Instruct", "smollm2", 135_000_000),
        ("gemma-2-2b-it", "gemma-2", 2_000_000_000),
        ("gpt-4o-mini", "gpt-4o", None),
        ("gpt-4.1", "gpt-4.1", None),
        ("mixtral-8x7b", "mixtral", None),
        ("my-finetune", None, None),
    ],
)
def test_guesses_only_what_the_name_states(name: str, family: str | None, parameters: int | None) -> None:
    assert guess_family(name) == family
    assert guess_parameters(name) == parameters


def test_two_different_sizes_are_not_guessed() -> None:
    assert guess_parameters("distill-70b-to-8b") is None
