import pytest
from emergebench import GenerateConfig, Message, ModelError
from emergebench.chat_format import chat_request, parse_chat_response

ASK = [Message(role="system", content="be brief"), Message(role="user", content="hi")]


def test_request_leaves_unset_fields_to_the_server():
    assert chat_request(ASK, GenerateConfig(), model="m") == {
        "model": "m",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    }


def test_request_passes_config_and_config_beats_fixed_defaults():
    body = chat_request(ASK, GenerateConfig(max_tokens=5, temperature=0.0, top_logprobs=3), max_tokens=1024)
    assert (body["max_tokens"], body["temperature"], body["logprobs"], body["top_logprobs"]) == (5, 0.0, True, 3)


def test_response_format_without_type_is_refused_with_the_shape_to_use():
    with pytest.raises(ModelError, match="json_schema"):
        chat_request(ASK, GenerateConfig(response_format={"schema": {}}))


def test_parse_text_usage_and_logprobs():
    output = parse_chat_response(
        {
            "choices": [
                {
                    "message": {"content": "Yes"},
                    "finish_reason": "stop",
                    "logprobs": {
                        "content": [
                            {
                                "token": "Yes",
                                "logprob": -0.1,
                                "top_logprobs": [{"token": "Yes", "logprob": -0.1}, {"token": "No", "logprob": -2.4}],
                            }
                        ]
                    },
                }
            ],
            "usage": {"prompt_tokens": 7, "completion_tokens": 1},
        }
    )
    assert (output.text, output.usage.input_tokens, output.usage.output_tokens) == ("Yes", 7, 1)
    assert output.logprobs[0].top == {"Yes": -0.1, "No": -2.4}


def test_parse_refuses_a_response_without_choices():
    with pytest.raises(ValueError, match="no choices"):
        parse_chat_response({"object": "error"})
