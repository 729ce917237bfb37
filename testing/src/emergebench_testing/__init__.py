"""Test servers for emergebench and its plugins, kept out of the runtime distributions.

- :mod:`emergebench_testing.hubserver`: ``HubServer``, the subset of the Hugging Face Hub HTTP API
  that ``huggingface_hub`` uses (repos, commits, listings, downloads, Git LFS), for the real client;
- :mod:`emergebench_testing.openai_server`: ``FakeOpenAIServer``, an OpenAI-compatible chat server with
  fault injection (status codes, Retry-After, stalls, dropped connections, malformed bodies), and
  :mod:`emergebench_testing.openai_batch`, its Batch API (``/v1/files``, ``/v1/batches``).

Both bind 127.0.0.1 on a free port and never reach the network. Nothing in a runtime distribution
imports this package (``tests/test_testing_distribution.py`` checks it).
"""
