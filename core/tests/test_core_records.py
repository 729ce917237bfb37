from emergebench.records import GenerateConfig, RunSpec


def spec(**kw):
    base = dict(task="t", task_version="1", model="scripted/echo", seed=1)
    base.update(kw)
    return RunSpec(**base)


def test_spec_id_is_stable_and_content_addressed():
    assert spec().spec_id == spec().spec_id
    assert len(spec().spec_id) == 16
    assert spec(task_args={"a": 1, "b": 2}).spec_id == spec(task_args={"b": 2, "a": 1}).spec_id


def test_spec_id_changes_with_everything_that_changes_results():
    ids = {
        spec().spec_id,
        spec(task_version="2").spec_id,
        spec(task_args={"k": 2}).spec_id,
        spec(model="scripted/constant").spec_id,
        spec(model_args={"reply": "x"}).spec_id,
        spec(generate=GenerateConfig(temperature=0.5)).spec_id,
        spec(grader="exact").spec_id,
        spec(grader_model="scripted/echo").spec_id,
        spec(seed=2).spec_id,
        spec(limit=3).spec_id,
        spec(epochs=2).spec_id,
    }
    assert len(ids) == 11


def test_spec_has_no_transport_settings():
    forbidden = {"max_concurrency", "retries", "timeout", "use_cache", "base_url", "api_key"}
    assert not forbidden & set(RunSpec.model_fields)


def test_generate_config_merge_only_overrides_set_fields():
    base = GenerateConfig(temperature=0.0, max_tokens=10)
    merged = base.merged(GenerateConfig(max_tokens=20), None)
    assert merged.temperature == 0.0 and merged.max_tokens == 20
